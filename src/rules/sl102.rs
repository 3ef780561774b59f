//! SL102: class-level state changed through the class (`cls.x.append`, `type(self).x[k] = v`,
//! `setattr(cls, ...)`) by code that runs per call.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{
    AccessPath, AttributeAssignment, FuncIdx, FunctionKind, Mutation, MutationKind, Root, Span,
    Value,
};
use crate::model::{ClassReceiver, takes_entries_out};
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common::{self, SharedObject};

use super::{Context, Part, Rule, RuleMeta, sharing_meant, sl101, sl107, sl108, sl110};

pub struct ClassStateWrittenAtRunTime;

static META: RuleMeta = RuleMeta {
    code: "SL102",
    name: "class-state-written-at-run-time",
    summary: "Class-level state is changed through the class (`cls.x.append`, `setattr(cls, ...)`) by code that runs per call",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL102.md"),
};

impl Rule for ClassStateWrittenAtRunTime {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        sharing_meant::leave_meant(context.project, told(context))
    }
}

/// What the rule tells, changes made holding a lock among them (SL111 takes those).
pub(super) fn told(context: &Context<'_>) -> Vec<Diagnostic> {
    let mut findings = mutations_through_the_class(context, Part::Told);
    findings.extend(attributes_set_on_the_class(context, Setting::PerCall));
    findings.extend(classes_handed_to_setters(context));
    findings
}

/// The class attribute a finding is about, and the function that changes it. Through `cls` the
/// attribute may name a different object in each subclass: one finding shows them all.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct MutationKey {
    file: FileId,
    function: FuncIdx,
    attr: String,
    /// The attribute of the shared object that changes (`items` in `cls.state.items.append`).
    inner: Option<String>,
}

struct MutationGroup<'a> {
    /// The classes whose class-level binding the code may change, with the binding.
    definitions: Vec<(ClassId, Span)>,
    object: SharedObject,
    named: bool,
    /// The classes the code names (`C.x` with `C` a subclass of the defining class), in the
    /// order met: the changes go through them.
    written: Vec<ClassId>,
    /// Every change of the group names its class: when one goes through `cls` (whatever class
    /// the code runs for), the names in `written` are not the only classes written through.
    all_named: bool,
    /// The class whose own method every change of the group calls on one element of the
    /// container, when they all do (`page.update()` after `page = WebPage.instances[k]`, the
    /// annotation declaring `WebPage`s): the container is not written, the element may be.
    element_methods_of: Option<ClassId>,
    sites: Vec<&'a Mutation>,
}

/// `cls.x.append(v)`, `type(self).x[k] = v`, `C.x.update(...)`, `cls.state.owner = v`: of the
/// functions that only take entries out (`cls.x.pop(k)`), only when `part` is SL110's, of the
/// others only when it is this rule's.
pub(super) fn mutations_through_the_class(context: &Context<'_>, part: Part) -> Vec<Diagnostic> {
    let project = context.project;
    let candidates = common::class_level_candidates(project);
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<MutationKey, MutationGroup<'_>> = BTreeMap::new();
    for change in context.model.class_level_changes(project) {
        let ClassReceiver::Class { named } = change.receiver else {
            continue;
        };
        let file_id = change.file;
        let facts = &project.file(file_id).facts;
        let mutation = &facts.mutations[change.mutation as usize];
        let target = &mutation.target;
        if !target.attrs.iter().any(|a| candidates.contains(a.as_str())) {
            continue;
        }
        let Some(attr) = target.attrs.get(change.attr_index) else {
            continue;
        };
        let inner = &target.attrs[change.attr_index + 1..];
        if inner.len() > 1
            || rebound_first(facts, mutation, change.attr_index)
            || common::in_test_code(project, file_id, mutation.function)
        {
            continue;
        }
        for class in &change.classes {
            let Some((defining_class, binding)) = project.lookup_class_attribute(*class, attr)
            else {
                continue;
            };
            // Declared sharing is SL105's question.
            if project.class(defining_class).1.in_function
                || common::is_classvar(binding)
                || common::copies_or_has_no_instances(context, *class)
            {
                continue;
            }
            let Some(object) = common::changed_class_level_object(
                project,
                context.model,
                (defining_class, binding),
                file_id,
                mutation,
                inner.first().map(|i| i.as_str()),
            ) else {
                continue;
            };
            let element_method = if inner.is_empty() {
                common::declared_element_own_method(
                    project,
                    (defining_class, binding),
                    file_id,
                    mutation,
                )
            } else {
                None
            };
            let key = MutationKey {
                file: file_id,
                function: mutation.function,
                attr: attr.to_string(),
                inner: inner.first().map(|a| a.to_string()),
            };
            let first_site = !groups.contains_key(&key);
            let group = groups.entry(key).or_insert_with(|| MutationGroup {
                definitions: Vec::new(),
                object,
                named,
                written: Vec::new(),
                all_named: true,
                element_methods_of: element_method,
                sites: Vec::new(),
            });
            if !first_site && group.element_methods_of != element_method {
                group.element_methods_of = None;
            }
            group.all_named &= named;
            if named && !group.written.contains(class) {
                group.written.push(*class);
            }
            if !group.definitions.contains(&(defining_class, binding.span)) {
                group.definitions.push((defining_class, binding.span));
            }
            group.sites.push(mutation);
        }
    }
    // The class-level bindings (with the attribute inside them) some function changes through
    // the class other than by taking entries out, a change this rule reports, or through an
    // instance, which SL101 reports: only for those does a function that only takes entries out
    // go to SL110, the leak being told where the entries are put in.
    let told_elsewhere: Vec<(&(ClassId, Span), Option<&str>)> = groups
        .iter()
        .filter(|(_, group)| !group.sites.iter().all(|m| takes_entries_out(m)))
        .flat_map(|(key, group)| {
            group
                .definitions
                .iter()
                .map(|definition| (definition, key.inner.as_deref()))
        })
        .collect();
    let only_takes_out =
        |group: &MutationGroup<'_>| group.sites.iter().all(|m| takes_entries_out(m));
    let told_here = |definition: &(ClassId, Span), inner: Option<&str>| {
        told_elsewhere.contains(&(definition, inner))
    };
    // Entries put in through an instance (`self.cache[k] = v`) are SL101's to tell; asked only
    // when some function that only takes entries out changes a binding not told here.
    let asks_sl101 = groups.iter().any(|(key, group)| {
        only_takes_out(group)
            && group
                .definitions
                .iter()
                .any(|definition| !told_here(definition, key.inner.as_deref()))
    });
    let filled_through_instances = if asks_sl101 {
        sl101::containers_filled_through_instances(context)
    } else {
        Vec::new()
    };
    let told_by_sl101 = |(class, span): &(ClassId, Span), inner: Option<&str>| {
        filled_through_instances
            .iter()
            .any(|(c, s, i)| c == class && s == span && i.as_deref() == inner)
    };
    // Every binding the function may change must be filled where another finding tells it: one
    // filled only at import (a base class's own dict) is emptied here and told nowhere else.
    let taken_out: Vec<bool> = groups
        .iter()
        .map(|(key, group)| {
            let inner = key.inner.as_deref();
            only_takes_out(group)
                && group.definitions.iter().all(|definition| {
                    told_here(definition, inner) || told_by_sl101(definition, inner)
                })
        })
        .collect();
    groups
        .into_iter()
        .zip(taken_out)
        .filter(|(_, taken_out)| *taken_out == (part == Part::TakenOut))
        .map(|(group, _)| group)
        .map(|(key, mut group)| {
            common::sort_sites(&mut group.sites);
            group.definitions.sort();
            report_mutation(project, &key, group, part)
        })
        .collect()
}

/// Whether the function binds the class attribute to a new object (`cls.settings =
/// cls.settings.copy()`) before `mutation` changes it: the change goes into that object, not the
/// one the class body created.
fn rebound_first(facts: &crate::facts::FileFacts, mutation: &Mutation, attr_index: usize) -> bool {
    let target = &mutation.target;
    facts.attribute_assignments.iter().any(|a| {
        a.function == mutation.function
            && a.span.start < mutation.span.start
            && a.object.root == target.root
            && a.object.attrs[..] == target.attrs[..attr_index]
            && a.attr == target.attrs[attr_index]
            && !matches!(a.value, Value::Alias(_) | Value::Other)
    })
}

fn report_mutation(
    project: &Project,
    key: &MutationKey,
    group: MutationGroup<'_>,
    part: Part,
) -> Diagnostic {
    let (_, class) = project.class(group.definitions[0].0);
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let first = group.sites[0];
    let through = if group.named {
        // The class as the code names it: a subclass's name when the change goes through one.
        let names: Vec<String> = group
            .written
            .iter()
            .map(|c| format!("`{}`", project.class(*c).1.name))
            .collect();
        if names.is_empty() || !group.all_named {
            format!("`{}`", class.name)
        } else {
            names.join(" and ")
        }
    } else {
        "the class".to_string()
    };
    let (what, label) = match group.element_methods_of {
        Some(element) => describe_element_method_calls(project, element, &group.sites, key.file),
        None => group.object.describe_change(
            &key.attr,
            key.inner.as_deref(),
            &group.sites,
            &project.file(key.file).facts,
        ),
    };
    let kind = group.object.kind();
    let holders = match group.definitions.as_slice() {
        [_] => format!("one {kind} held by class `{}`", class.name),
        several => {
            // The labels show every definition; the message names a few.
            const NAMED: usize = 3;
            let mut names: Vec<String> = several
                .iter()
                .take(NAMED)
                .map(|(c, _)| format!("`{}`", project.class(*c).1.name))
                .collect();
            if several.len() > NAMED {
                names.push(format!("{} more", several.len() - NAMED));
            }
            format!("a {kind} held by each of {}", names.join(", "))
        }
    };
    let message = format!(
        "`{}` is {holders}; `{}` {what} through {through}",
        key.attr, function.name,
    );
    let mut related: Vec<Label> = group
        .definitions
        .iter()
        .map(|(c, span)| {
            Label::new(
                project.class(*c).0,
                *span,
                "created once, when the class is defined",
            )
        })
        .collect();
    common::push_aliases_and_sites(
        &mut related,
        key.file,
        &group.sites,
        &format!("`{}` is taken here, not copied", key.attr),
    );
    let mut identity = vec![
        class.qualname.to_string(),
        key.attr.clone(),
        function.qualname.to_string(),
    ];
    identity.extend(key.inner.clone());
    if part == Part::TakenOut {
        return sl110::entries_taken_out(message, Label::new(key.file, first.span, label))
            .with_related(related)
            .with_identity(identity);
    }
    META.diagnostic(message, Label::new(key.file, first.span, label))
        .with_related(related)
        .with_note(
            "the class exists once per process: what one call puts there is seen by every \
             instance and every later request",
        )
        .with_help(
            "keep per-call data on the instance or pass it along; if the class must hold a \
             cache, fill it at import time or key it by everything its values depend on and \
             bound its size",
        )
        .with_identity(identity)
}

/// The verb phrase and primary label for `sites` (in `file`), each calling a method of class
/// `element` on one element of a class-level container: the element's own method, which the
/// analysis does not show to leave the element unchanged, and no write into the container.
fn describe_element_method_calls(
    project: &Project,
    element: ClassId,
    sites: &[&Mutation],
    file: FileId,
) -> (String, &'static str) {
    let mut methods: Vec<String> = Vec::new();
    for site in sites {
        if let MutationKind::Method(name) = &site.kind {
            let name = format!("`{name}`");
            if !methods.contains(&name) {
                methods.push(name);
            }
        }
    }
    let whose = if methods.len() == 1 {
        "that class's own method"
    } else {
        "that class's own methods"
    };
    let every_call = project
        .file(file)
        .facts
        .runs_on_every_call(sites[0].span.start);
    (
        format!(
            "calls {} on a `{}` it holds ({whose}, which may change that object)",
            methods.join(" and "),
            project.class(element).1.name
        ),
        common::when(every_call, "called here, on every call", "called here"),
    )
}

/// Which class-attribute settings a rule reports.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    /// Per-call code sets the attribute on the class (SL102).
    PerCall,
    /// A constructor sets its own class's attribute to one of its arguments: a class-wide option
    /// that each new instance replaces (SL107).
    ConstructorOption,
    /// Per-call code sets the attribute after saving its value, and puts that value back in a
    /// `finally`: nothing of the call outlives it (SL108).
    Restored,
}

/// `cls.x = v`, `type(self).x = v`, `setattr(cls, name, v)`, and `C.x = v` inside `C`'s own
/// hierarchy, in per-call code; `setting` says which of them: constructors' options, changes
/// undone in a `finally`, or the others.
pub fn attributes_set_on_the_class(context: &Context<'_>, setting: Setting) -> Vec<Diagnostic> {
    let project = context.project;
    let mut findings = Vec::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        let facts = &file.facts;
        for assignment in &facts.attribute_assignments {
            if !matches!(assignment.object.root, Root::Class | Root::Global(_))
                || !may_carry_call_state(project, file_id, assignment.function, &assignment.value)
                || crate::model::never_runs(project, file_id, assignment.span.start)
            {
                continue;
            }
            let this = if facts.restored_stores.contains(&assignment.span.start) {
                Setting::Restored
            } else if constructor_option(project, file_id, assignment.function, &assignment.value) {
                Setting::ConstructorOption
            } else {
                Setting::PerCall
            };
            if this != setting {
                continue;
            }
            let Some(class) = set_class(context, file_id, assignment.function, &assignment.object)
            else {
                continue;
            };
            // `if cls._engine is None: cls._engine = connect()` sets up shared state once.
            if is_augmented(facts, assignment.function, assignment.span)
                || facts.lazy_inits.contains(&assignment.span.start)
                || stores_what_it_reads(assignment)
            {
                continue;
            }
            findings.push(report_set(
                project,
                file_id,
                assignment.function,
                class,
                Some(assignment.attr.as_str()),
                assignment.span,
                SetHow {
                    with_setattr: false,
                    through_cls: assignment.object.root == Root::Class,
                    setting,
                },
            ));
        }
        if setting != Setting::PerCall {
            continue;
        }
        for call in &facts.setattr_calls {
            // `if not hasattr(cls, name): setattr(cls, name, {})` sets it up once.
            if facts.lazy_inits.contains(&call.span.start)
                || crate::model::never_runs(project, file_id, call.span.start)
            {
                continue;
            }
            let Some(class) = set_class(context, file_id, call.function, &call.object) else {
                continue;
            };
            findings.push(report_set(
                project,
                file_id,
                call.function,
                class,
                call.name.as_deref(),
                call.span,
                SetHow {
                    with_setattr: true,
                    through_cls: call.object.root == Root::Class,
                    setting,
                },
            ));
        }
    }
    findings
}

/// The class whose attribute per-call code in `function` sets through `object`, when `object`
/// is the class itself (not an attribute of it) and the code is in that class's hierarchy.
fn set_class(
    context: &Context<'_>,
    file: FileId,
    function: FuncIdx,
    object: &AccessPath,
) -> Option<ClassId> {
    let project = context.project;
    let path = common::class_path(project, file, function, object)?;
    if path.attr_index != object.attrs.len() {
        return None;
    }
    let class = path.classes[0];
    let method =
        &project.file(file).facts.functions[project.outermost_function(file, function) as usize];
    // `__new__` is where singletons keep their one instance on the class.
    if method.name == "__new__"
        || project.class(class).1.in_function
        || !common::runs_per_call(project, file, function)
        || common::in_test_code(project, file, function)
        || common::copies_or_has_no_instances(context, class)
    {
        return None;
    }
    if path.named {
        // Outside the class's own hierarchy this is SL103.
        let own = project.method_class(file, function)?;
        if !common::same_hierarchy(project, own, class) {
            return None;
        }
    }
    Some(class)
}

/// `cls.count += 1` is recorded both as a mutation and as an assignment: a counter, not a value
/// handed from one call to the next.
fn is_augmented(facts: &crate::facts::FileFacts, function: FuncIdx, target: Span) -> bool {
    facts.mutations.iter().any(|m| {
        m.function == function
            && m.span.start == target.start
            && matches!(m.kind, MutationKind::InPlaceOperator(_))
    })
}

/// Whether `value`, set on the class, may carry state from one call to the next. Not: a fresh
/// container or `None` (lazy set-up and resets), a copy, or an instance of the class itself (a
/// singleton).
fn may_carry_call_state(project: &Project, file: FileId, function: FuncIdx, value: &Value) -> bool {
    match value {
        Value::Container(_) | Value::None | Value::Copy => false,
        Value::Call { callee } => {
            let facts = &project.file(file).facts.functions[function as usize];
            let receiver = facts.params.first().map(|p| p.name.as_str());
            let own = project.method_class(file, function);
            let calls_own_class = (facts.kind == FunctionKind::ClassMethod
                && Some(callee.as_str()) == receiver)
                || matches!(
                    project.resolve(file, Some(function), callee),
                    Resolved::Class(c) if Some(c) == own
                );
            !calls_own_class
        }
        _ => true,
    }
}

/// `cls.x = cls.x`: the class is given the object it already shows (its own, or the one it
/// inherits, which the first call copies onto a subclass); no call stores anything of its own.
fn stores_what_it_reads(assignment: &AttributeAssignment) -> bool {
    let Value::Alias(read) = &assignment.value else {
        return false;
    };
    read.root == assignment.object.root
        && read.attrs.len() == assignment.object.attrs.len() + 1
        && read.attrs[..assignment.object.attrs.len()] == assignment.object.attrs[..]
        && read.attrs.last() == Some(&assignment.attr)
}

/// Whether `value`, set on a class in `function`, is an argument of the constructor `function`
/// (`LoguruIntegration.level = level` in `__init__(self, level)`, or an attribute of one:
/// `config.IRC_ACL_PATTERN`): configuration of the class that each new instance replaces, told by
/// SL107 rather than as per-call state.
fn constructor_option(project: &Project, file: FileId, function: FuncIdx, value: &Value) -> bool {
    let facts = &project.file(file).facts.functions[function as usize];
    let Value::Alias(path) = value else {
        return false;
    };
    let Root::Local(name) = &path.root else {
        return false;
    };
    facts.name == "__init__"
        && facts.kind == FunctionKind::Instance
        && facts.params.iter().skip(1).any(|p| p.name == *name)
}

/// How per-call code sets an attribute on a class.
struct SetHow {
    with_setattr: bool,
    /// Through `cls` (or `type(self)`): each subclass the code runs for gets the attribute set on
    /// itself.
    through_cls: bool,
    setting: Setting,
}

fn report_set(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    class: ClassId,
    attr: Option<&str>,
    span: Span,
    how: SetHow,
) -> Diagnostic {
    let (class_file, class_facts) = project.class(class);
    let function_facts = &project.file(file).facts.functions[function as usize];
    let what = match attr {
        Some(attr) => format!("`{attr}`"),
        None => "attributes".to_string(),
    };
    let on = if how.through_cls {
        format!(
            "on class `{}` or each subclass it runs for",
            class_facts.name
        )
    } else {
        format!("on class `{}`", class_facts.name)
    };
    let with = if how.with_setattr {
        " with `setattr`"
    } else {
        ""
    };
    let every_call = project.file(file).facts.runs_on_every_call(span.start);
    let diagnostic = match how.setting {
        Setting::PerCall => META
            .diagnostic(
                format!(
                    "`{}` sets {what} {on}{with}{}",
                    function_facts.name,
                    common::when(every_call, " on every call", " on the calls that reach it"),
                ),
                Label::new(
                    file,
                    span,
                    common::when(
                        every_call,
                        "set on the class here, on every call",
                        "set on the class here",
                    ),
                ),
            )
            .with_note(
                "an attribute set on the class is seen by every instance and every later \
                 request, and concurrent requests overwrite each other's value",
            )
            .with_help(
                "set it on the instance (`self.<name> = ...`) or pass the value along; if it is \
                 configuration, set it once at import time",
            ),
        Setting::ConstructorOption => sl107::META
            .diagnostic(
                format!(
                    "`{}` sets {what} {on} to an argument of the constructor: each new instance \
                     replaces it for every instance",
                    function_facts.name
                ),
                Label::new(
                    file,
                    span,
                    "set on the class here, from a constructor argument",
                ),
            )
            .with_note(
                "a class-wide option: the last instance created decides the value every \
                 instance reads",
            )
            .with_help(
                "keep the option on the instance (`self.<name> = ...`) unless one value per \
                 process is meant",
            ),
        Setting::Restored => sl108::META
            .diagnostic(
                format!(
                    "`{}` sets {what} {on} only until it returns: a `finally` puts the saved \
                     value back, so only code running at the same time sees it",
                    function_facts.name
                ),
                Label::new(
                    file,
                    span,
                    "set on the class here; the `finally` restores the value read before",
                ),
            )
            .with_note(
                "no later request sees the value; a request handled at the same time (another \
                 thread, or a coroutine while this one awaits) sees it until the `finally` runs",
            )
            .with_help(
                "if calls can run at the same time, pass the value along or keep it in a \
                 `contextvars.ContextVar` instead of on the class",
            ),
    };
    let diagnostic = diagnostic
        .with_severity(Severity::Warning)
        .with_related(vec![Label::new(
            class_file,
            class_facts.span,
            if how.through_cls {
                // `self.__class__.x = v` sets it on the class of the instance: an instance of a
                // subclass reads the value set on its own class, not this one's.
                THROUGH_CLS_READERS
            } else {
                "every instance without a value of its own reads it from this class"
            },
        )]);
    common::about_class_attribute(diagnostic, project, class, attr, &function_facts.qualname)
}

/// The label at a class whose attribute code sets through `cls`, `type(self)` or
/// `self.__class__`: the class the code runs for, which may be a subclass.
const THROUGH_CLS_READERS: &str = "set on this class or on the subclass the code runs for; an \
     instance without a value of its own reads it from its own class or the nearest base that \
     has it";

/// `configure(cls, ...)` where `configure`, a function of the analysed tree, sets attributes
/// (`setattr(klass, ...)`, `klass.x = v`) on the parameter it receives the class in.
fn classes_handed_to_setters(context: &Context<'_>) -> Vec<Diagnostic> {
    let project = context.project;
    let mut findings = Vec::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        for argument in &file.facts.class_arguments {
            let Resolved::Function(helper) =
                project.resolve(file_id, Some(argument.function), &argument.callee)
            else {
                continue;
            };
            let (helper_file, helper_facts) = project.function(helper);
            let Some(param) = helper_facts.params.get(argument.position as usize) else {
                continue;
            };
            let (_, helper_idx) = project.function_in_file(helper);
            let parameter = AccessPath::new(Root::Local(param.name));
            let helper_file_facts = &project.file(helper_file).facts;
            let Some(set_site) = helper_file_facts
                .setattr_calls
                .iter()
                .find(|c| c.function == helper_idx && c.object == parameter)
                .map(|c| c.span)
                .or_else(|| {
                    helper_file_facts
                        .attribute_assignments
                        .iter()
                        .find(|a| a.function == helper_idx && a.object == parameter)
                        .map(|a| a.span)
                })
            else {
                continue;
            };
            let Some(class) = project.method_class(file_id, argument.function) else {
                continue;
            };
            if !common::runs_per_call(project, file_id, argument.function)
                || common::in_test_code(project, file_id, argument.function)
                || common::copies_or_has_no_instances(context, class)
            {
                continue;
            }
            let (class_file, class_facts) = project.class(class);
            let function = &file.facts.functions[argument.function as usize];
            let every_call = file.facts.runs_on_every_call(argument.span.start);
            findings.push(
                META.diagnostic(
                    format!(
                        "`{}` hands class `{}` to `{}`, which sets attributes on it,{}",
                        function.name,
                        class_facts.name,
                        helper_facts.name,
                        common::when(every_call, " on every call", " on the calls that reach it"),
                    ),
                    Label::new(
                        file_id,
                        argument.span,
                        common::when(
                            every_call,
                            "the class is handed over here, on every call",
                            "the class is handed over here",
                        ),
                    ),
                )
                .with_severity(Severity::Warning)
                .with_related(vec![
                    Label::new(
                        helper_file,
                        set_site,
                        format!(
                            "`{}` sets an attribute on the class here",
                            helper_facts.name
                        ),
                    ),
                    Label::new(class_file, class_facts.span, THROUGH_CLS_READERS),
                ])
                .with_note(
                    "an attribute set on the class is seen by every instance and every later \
                     request, and concurrent requests overwrite each other's value",
                )
                .with_help(
                    "hand the helper the instance (`self`) instead of the class, or pass the \
                     values along; if it is configuration, configure the class once at import \
                     time",
                )
                .with_identity(vec![
                    class_facts.qualname.to_string(),
                    helper_facts.qualname.to_string(),
                    function.qualname.to_string(),
                ]),
            );
        }
    }
    findings
}
