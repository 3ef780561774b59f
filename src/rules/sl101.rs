//! SL101: a class-level mutable object changed through an instance by code that runs per call.

use std::collections::BTreeMap;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{Mutation, Name, Root, Span};
use crate::knowledge;
use crate::model::{
    ClassReceiver, InstanceAssignments, MethodCalls, keeps_empty, only_extended, takes_entries_out,
};
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common::{self, SharedObject};
use super::{Context, Rule, RuleMeta, Shared, sharing_meant, sl109};

pub struct SharedClassStateMutatedThroughInstance;

static META: RuleMeta = RuleMeta {
    code: "SL101",
    name: "shared-class-state-mutated-through-instance",
    summary: "A class-level mutable object is changed through an instance by code that runs per call",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL101.md"),
};

/// The shared object a finding is about, and the function that changes it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct FindingKey {
    file: FileId,
    function: u32,
    defining_class: ClassId,
    definition: Span,
    /// The attribute of a shared object whose container changes (`items` in
    /// `self.state.items.append(v)`).
    inner: Option<String>,
}

#[derive(Clone)]
pub(super) struct Group<'a> {
    attr: String,
    object: SharedObject,
    receiver: String,
    /// The class whose method changes the object, when it is not the class that defines it: a
    /// subclass, or the user of a mixin whose method does the change.
    acting_class: Option<ClassId>,
    sites: Vec<&'a Mutation>,
}

impl Rule for SharedClassStateMutatedThroughInstance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let findings = changes_through_instances(context, false);
        sharing_meant::leave_meant(context.project, findings)
    }
}

/// The changes of class-level objects through instances, in code that runs per call: the adds of
/// futures kept only until they are done (SL109) when `kept`, the others otherwise.
pub(super) fn changes_through_instances(context: &Context<'_>, kept: bool) -> Vec<Diagnostic> {
    let project = context.project;
    instance_change_groups(context)
        .iter()
        .filter_map(|(key, group)| {
            let facts = &project.file(key.file).facts;
            let sites: Vec<&Mutation> = group
                .sites
                .iter()
                .copied()
                .filter(|m| facts.kept_until_done.contains(&m.span.start) == kept)
                .collect();
            if sites.is_empty() {
                return None;
            }
            let mut group = Group {
                sites,
                ..group.clone()
            };
            common::sort_sites(&mut group.sites);
            Some(report(project, key, group, kept))
        })
        .collect()
}

/// The class-level bindings (the defining class and the binding, with the attribute inside the
/// object whose container changes) that this rule reports a change of other than by taking
/// entries out: entries that code running per call puts in through an instance. SL102 leaves a
/// function that only takes entries out of such a container through the class to SL110, the
/// leak being told here.
pub(super) fn containers_filled_through_instances(
    context: &Context<'_>,
) -> Vec<(ClassId, Span, Option<String>)> {
    let project = context.project;
    instance_change_groups(context)
        .iter()
        .filter(|(key, group)| {
            let facts = &project.file(key.file).facts;
            group
                .sites
                .iter()
                .any(|m| !facts.kept_until_done.contains(&m.span.start) && !takes_entries_out(m))
        })
        .map(|(key, _)| (key.defining_class, key.definition, key.inner.clone()))
        .collect()
}

/// The changes through instances this rule tells, grouped by function and shared object.
pub(super) type InstanceChangeGroups<'a> = BTreeMap<FindingKey, Group<'a>>;

/// The changes through instances this rule tells, before SL109 takes the adds of futures kept
/// until done: made once per analysis, by the first of SL101, SL102 and SL109 to ask.
fn instance_change_groups<'c, 'a>(context: &'c Context<'a>) -> &'c InstanceChangeGroups<'a> {
    Shared::get_or_make(&context.shared.instance_change_groups, || {
        make_instance_change_groups(context)
    })
}

fn make_instance_change_groups<'a>(context: &Context<'a>) -> InstanceChangeGroups<'a> {
    {
        let project = context.project;
        let candidate_names = common::class_level_candidates(project);
        if candidate_names.is_empty() {
            return BTreeMap::new();
        }
        let instance_assignments = context.model.instance_assignments(project);
        let mut groups: BTreeMap<FindingKey, Group<'_>> = BTreeMap::new();

        // The changes through an instance of a class-level candidate, with the method (not
        // nested in another) a change through `self` is in.
        let mut changes = Vec::new();
        for change in context.model.class_level_changes(project) {
            let ClassReceiver::Instance(receiver) = &change.receiver else {
                continue;
            };
            let mutation = &project.file(change.file).facts.mutations[change.mutation as usize];
            let (attr, inner) = match mutation.target.attrs.as_slice() {
                [attr] => (attr, None),
                [attr, inner] => (attr, Some(inner)),
                _ => continue,
            };
            if !candidate_names.contains(attr.as_str())
                || common::in_test_code(project, change.file, mutation.function)
            {
                continue;
            }
            let method = (mutation.target.root == Root::SelfParam).then(|| {
                project.function_id(
                    change.file,
                    project.outermost_function(change.file, mutation.function),
                )
            });
            changes.push((change, receiver, mutation, attr, inner, method));
        }
        let asked: HashSet<&str> = changes
            .iter()
            .filter_map(|(.., method)| Some(project.function((*method)?).1.name.as_str()))
            .collect();
        let method_calls =
            (!asked.is_empty()).then(|| MethodCalls::collect(project, &asked).with_callers());
        // The classes the tree only extends: an instance of one is always a subclass's, which
        // the change reaches as that subclass finds the attribute.
        let extended_only = only_extended(
            project,
            &changes
                .iter()
                .flat_map(|(change, ..)| change.classes.iter().copied())
                .collect(),
        );

        // Per class and attribute: whether every construction binds it (costly, asked only for
        // what would otherwise be reported).
        let mut bound_at_construction: HashMap<(ClassId, Name), bool> = HashMap::default();
        for (change, receiver, mutation, attr, inner, method) in changes {
            let file_id = change.file;
            let mut classes = change.classes.clone();
            // Only the classes whose instances the tree runs the method on, when its calls
            // show them all: a subclass that rebinds the attribute (an ORM `relationship`, a
            // descriptor) is then the only one whose value the change reaches.
            if let (Some(method), Some(calls)) = (method, &method_calls)
                && let Some(reaching) = calls.receiver_classes(method)
            {
                classes.retain(|c| reaching.contains(c));
            }
            for class in classes {
                let Some((defining_class, binding)) = project.lookup_class_attribute(class, attr)
                else {
                    continue;
                };
                // A class defined in a function body is a new class, with new class-level
                // objects, on every call: nothing outlives the call.
                if project.class(defining_class).1.in_function
                    || (extended_only.contains(&class)
                        && every_subclass_shadows(project, class, attr, defining_class))
                    || common::is_classvar(binding)
                    || common::instance_gets_own_default(context, class, defining_class, binding)
                    || common::replaced_at_class_creation(project, defining_class, binding)
                    || common::is_singleton(project, class)
                    || instance_has_own(
                        project,
                        instance_assignments,
                        class,
                        attr,
                        change.file,
                        mutation,
                    )
                {
                    continue;
                }
                let Some(object) = common::changed_class_level_object(
                    project,
                    context.model,
                    (defining_class, binding),
                    file_id,
                    mutation,
                    inner.map(|i| i.as_str()),
                ) else {
                    continue;
                };
                // Every instance the tree makes is given its own value as it is made.
                if mutation.target.root == Root::SelfParam
                    && *bound_at_construction
                        .entry((class, *attr))
                        .or_insert_with(|| {
                            InstanceAssignments::bound_at_every_construction(project, class, attr)
                        })
                {
                    continue;
                }
                // Every way the tree runs the method may first give the instance its own value.
                if method.is_some_and(|method| {
                    project.function_in_file(method).1 == mutation.function
                        && instance_assignments.shadowed_in_callers(project, class, attr, method)
                }) {
                    continue;
                }
                let key = FindingKey {
                    file: file_id,
                    function: mutation.function,
                    defining_class,
                    definition: binding.span,
                    inner: inner.map(|i| i.to_string()),
                };
                let acting_class = acting_class(project, file_id, mutation, class, attr)
                    .filter(|acting| *acting != defining_class);
                let group = groups.entry(key).or_insert_with(|| Group {
                    attr: attr.to_string(),
                    object,
                    receiver: receiver.clone(),
                    acting_class,
                    sites: Vec::new(),
                });
                group.sites.push(mutation);
            }
        }

        // A class-level container created empty that nothing adds to: its `pop`s change nothing
        // (every fill first gives the instance its own). What this rule reports of it must keep
        // it empty too, as must every change the model attaches to it.
        let mut filled: HashSet<(ClassId, Span)> = HashSet::default();
        for (key, group) in &groups {
            let facts = &project.file(key.file).facts;
            if !group.sites.iter().all(|m| keeps_empty(facts, m)) {
                filled.insert((key.defining_class, key.definition));
            }
        }
        groups.retain(|key, _| {
            let defining_file = project.class(key.defining_class).0;
            filled.contains(&(key.defining_class, key.definition))
                || !context
                    .model
                    .stays_empty(project, defining_file, key.definition)
        });
        groups
    }
}

/// Whether every subclass of `class` in the tree finds `attr` on a class other than `defining`
/// (its own binding, or one between): with `class` one the tree only extends
/// ([`only_extended`]), no instance the tree makes reaches `defining`'s object through `class`
/// (ec2-api's `TaggableItemsDescriber`, whose every subclass binds its own `FILTER_MAP`).
fn every_subclass_shadows(
    project: &Project,
    class: ClassId,
    attr: &str,
    defining: ClassId,
) -> bool {
    project.descendants(class).iter().all(|&subclass| {
        project
            .lookup_class_attribute(subclass, attr)
            .is_some_and(|(found, _)| found != defining)
    })
}

/// Whether the instance a change goes through has its own `attr` by the time the change runs.
/// Through a local bound once to a new instance, what the function binds on `self` is another
/// object's: only what every instance gets at creation and what the function binds on the local
/// itself count.
fn instance_has_own(
    project: &Project,
    instance_assignments: &InstanceAssignments,
    class: ClassId,
    attr: &str,
    file: FileId,
    mutation: &Mutation,
) -> bool {
    let (function, start) = (mutation.function, mutation.span.start);
    match &mutation.target.root {
        Root::Local(local)
            if project.file(file).facts.functions[function as usize]
                .typed_locals
                .iter()
                .any(|t| t.name == *local && t.exact) =>
        {
            instance_assignments.own_from_creation(project, class, attr, file, function, start)
                || InstanceAssignments::local_given_own(project, file, function, local, attr, start)
        }
        _ => instance_assignments.shadows(project, class, attr, file, function, start),
    }
}

/// The class whose method changes the attribute through `self`: the method's own class when it
/// sees the attribute (itself or a subclass of the class defining it), else the instance's class
/// that mixes the method in.
fn acting_class(
    project: &Project,
    file: FileId,
    mutation: &Mutation,
    instance_class: ClassId,
    attr: &str,
) -> Option<ClassId> {
    if mutation.target.root != Root::SelfParam {
        return None;
    }
    let method_class = project.method_class(file, mutation.function)?;
    Some(
        if project.lookup_class_attribute(method_class, attr).is_some() {
            method_class
        } else {
            instance_class
        },
    )
}

fn report(project: &Project, key: &FindingKey, group: Group<'_>, kept: bool) -> Diagnostic {
    let (defining_file, class) = project.class(key.defining_class);
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let first = group.sites[0];
    let (verb, label) = group.object.describe_change(
        &group.attr,
        key.inner.as_deref(),
        &group.sites,
        &project.file(key.file).facts,
    );
    let kind = group.object.kind();
    let changer = match group.acting_class {
        Some(acting) => format!("{}.{}", project.class(acting).1.name, function.name),
        None => function.name.to_string(),
    };
    let message = format!(
        "`{}` is one {kind} shared by every `{}`; `{changer}` {verb} through `{}`",
        group.attr, class.name, group.receiver
    );
    let mut related = vec![Label::new(
        defining_file,
        key.definition,
        "created once, when the class is defined",
    )];
    common::push_aliases_and_sites(
        &mut related,
        key.file,
        &group.sites,
        &format!("`{}` is taken here, not copied", group.attr),
    );
    let help = help(project, key.defining_class, &group.attr);
    let mut identity = vec![
        class.qualname.to_string(),
        group.attr,
        function.qualname.to_string(),
    ];
    identity.extend(key.inner.clone());
    if kept {
        return sl109::kept_until_done(message, Label::new(key.file, first.span, label))
            .with_related(related)
            .with_identity(identity);
    }
    META.diagnostic(message, Label::new(key.file, first.span, label))
        .with_related(related)
        .with_note("in a long-running process, what one request writes here is seen by the next")
        .with_help(help)
        .with_identity(identity)
}

/// How to give each instance its own object. A field of a class whose `__init__` is generated
/// (a dataclass or an attrs class) takes a factory there: an `__init__` written by hand would
/// replace the generated one.
fn help(project: &Project, class: ClassId, attr: &str) -> &'static str {
    let (file, facts) = project.class(class);
    let field = facts
        .bindings
        .iter()
        .any(|b| b.name == attr && b.annotation.as_ref().is_some_and(|a| a != "ClassVar"));
    let generator =
        facts
            .decorators
            .iter()
            .find_map(|d| match project.resolve(file, None, &d.name) {
                Resolved::External(q) if knowledge::is_dataclass_decorator(q.as_str()) => Some(q),
                _ => None,
            });
    match (common::default_copying(project, class), generator) {
        (Some(knowledge::DefaultCopying::CopiesEmptyBuiltins), _) => {
            "make it a field with a factory, `name: T = msgspec.field(default_factory=...)`, so each struct makes its own, or annotate it `ClassVar` if sharing is intended"
        }
        (Some(_), _) => {
            "give the field a factory, `Field(default_factory=...)`, so each instance makes its own, or annotate it `ClassVar` if sharing is intended"
        }
        (None, Some(q)) if field && q.starts_with("attr") => {
            "give the field a factory, `attrs.field(factory=...)`, so each instance makes its own, or annotate it `ClassVar` if sharing is intended"
        }
        (None, Some(_)) if field => {
            "give the field a factory, `field(default_factory=...)`, so each instance makes its own, or annotate it `ClassVar` if sharing is intended"
        }
        _ => {
            "create it per instance in `__init__`, or annotate it `ClassVar` if sharing is intended"
        }
    }
}
