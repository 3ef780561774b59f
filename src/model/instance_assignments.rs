//! Where each class gives its instances their own value of an attribute (`self.x = []` in a
//! method, or a framework's copy of class-level defaults into each instance): an instance whose
//! `x` is its own no longer reaches the class's `x`. Several rules ask, so the model works it out
//! once per run.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::call_names::NameFilter;
use crate::facts::{
    AccessPath, Binding, ByText, CallReceiver, FunctionKind, Name, Returned, Root, Value,
};
use crate::knowledge;
use crate::project::{ClassId, FileId, FuncId, MroEntry, Project, Resolved, in_test_code};

use super::{MethodCalls, Model};

/// How many methods up the chain of `self.m()` calls [`InstanceAssignments::shadowed_in_callers`]
/// looks for the assignment, and how many calls down from a set-up method [`setup_callees`]
/// follows.
const MAX_CALLER_DEPTH: u32 = 4;

/// An assignment `self.attr = <new object>` in a method of a class.
#[derive(Debug, Clone, Copy)]
pub struct InstanceAssignment {
    pub file: FileId,
    /// The function it is in; `None` when a library's own set-up makes it, before any method of
    /// the tree runs on the instance.
    pub function: Option<u32>,
    pub start: u32,
    /// In a method that runs when the instance is created (`__init__`, `setUp`, ...).
    pub in_setup: bool,
}

/// Per attribute name, the classes whose methods give instances their own value of it, each
/// with those assignments in file order; a query tests these few classes against the receiver's
/// MRO rather than walking an MRO that may be thousands of classes long.
#[derive(Debug, Default)]
pub struct InstanceAssignments {
    by_attr: HashMap<Name, Vec<(ClassId, Vec<InstanceAssignment>)>>,
    /// `setattr(self, name, value)` in the `__init__` of a class itself (not a function nested
    /// in it) with `name` taken from the instance's own state (`FileFacts::instance_named_setattrs`):
    /// the class, the file, the `__init__` and the call's start. It may give the instance its
    /// own value of any attribute, so no change through `self` is proved to reach the class's.
    computed_in_init: Vec<(ClassId, FileId, u32, u32)>,
}

impl Model {
    /// Where classes give their instances their own attributes. Worked out on the first question
    /// and kept.
    pub fn instance_assignments(&self, project: &Project) -> &InstanceAssignments {
        self.instance_assignments
            .get_or_init(|| InstanceAssignments::collect(project))
    }
}

impl InstanceAssignments {
    pub(super) fn collect(project: &Project) -> Self {
        let mut by_class: AssignmentsByClass = HashMap::default();
        // The order classes first assign each attribute in, so that the result does not depend
        // on the hash map's order.
        let mut order: Vec<(ClassId, &Name)> = Vec::new();
        let mut computed_in_init = Vec::new();
        let setup_callees = setup_callees(project);
        let form_fields = KnownClasses::outside(knowledge::is_form_field);
        let django_fields = KnownClasses::outside(knowledge::is_django_field);
        let mongoengine_fields = KnownClasses::outside(knowledge::is_mongoengine_field);
        // bokeh is also analysed as itself, where `HasProps` and the property types are classes
        // of the tree.
        let bokeh_models = KnownClasses::anywhere(
            project,
            knowledge::is_bokeh_model,
            &[knowledge::BOKEH_HAS_PROPS],
        );
        let bokeh_properties = KnownClasses::anywhere(
            project,
            knowledge::is_bokeh_property,
            knowledge::BOKEH_PROPERTY_BASES,
        );
        let mut form_mixins: Vec<(FileId, u32)> = Vec::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for call in &file.facts.setattr_calls {
                let function = &file.facts.functions[call.function as usize];
                if function.name == "__init__"
                    && function.class.is_some()
                    && file
                        .facts
                        .instance_named_setattrs
                        .contains(&call.span.start)
                    && let Some(class) = project.method_class(file_id, call.function)
                {
                    computed_in_init.push((class, file_id, call.function, call.span.start));
                }
            }
            for assignment in &file.facts.attribute_assignments {
                if assignment.object.root != Root::SelfParam || !assignment.object.attrs.is_empty()
                {
                    continue;
                }
                // `self.x = self.DEFAULTS` gives the instance no object of its own.
                if let Value::Alias(path) = &assignment.value
                    && matches!(path.root, Root::SelfParam | Root::Class | Root::Global(_))
                {
                    continue;
                }
                let Some(class) = project.method_class(file_id, assignment.function) else {
                    continue;
                };
                let outer = project.outermost_function(file_id, assignment.function);
                let method = &file.facts.functions[outer as usize];
                let entry = by_class
                    .entry((class, &assignment.attr))
                    .or_insert_with(|| {
                        order.push((class, &assignment.attr));
                        Vec::new()
                    });
                entry.push(InstanceAssignment {
                    file: file_id,
                    function: Some(assignment.function),
                    start: assignment.span.start,
                    in_setup: knowledge::INSTANCE_SETUP_METHODS.contains(&method.name.as_str())
                        || (assignment.function == outer
                            && setup_callees.contains(&(class, &method.name))),
                });
            }
            // A framework that copies a list of class-level defaults into each instance does so
            // before the instance's methods run (a build or set-up step).
            for copy in &file.facts.instance_copies {
                let Some(class) = project.method_class(file_id, copy.function) else {
                    continue;
                };
                let entry = by_class.entry((class, &copy.attr)).or_insert_with(|| {
                    order.push((class, &copy.attr));
                    Vec::new()
                });
                entry.push(InstanceAssignment {
                    file: file_id,
                    function: Some(copy.function),
                    start: copy.span.start,
                    in_setup: true,
                });
            }
            // A WTForms form's `Form.__init__` binds each field the class declares and sets it
            // on the instance. A Django model's fields are replaced by descriptors when the
            // class is created, a MongoEngine document's fields are descriptors, and so are a
            // WSME complex type's public attributes once its metaclass has registered the class,
            // and a bokeh model's properties once `HasProps`'s metaclass has taken them out:
            // through an instance, from the start, each is the instance's own value.
            for (index, class) in file.facts.classes.iter().enumerate() {
                let class_id = project.class_id(file_id, index as u32);
                let (bound, fields) = if project
                    .inherits_external(class_id, knowledge::FIELD_BINDING_FORMS)
                {
                    let Some(bound) = form_fields_bound(project, file_id, index as u32) else {
                        continue;
                    };
                    (bound, DeclaredFields::Made(&form_fields))
                } else if project.inherits_external(class_id, knowledge::DJANGO_MODEL_BASES) {
                    (None, DeclaredFields::Made(&django_fields))
                } else if project.inherits_external(class_id, knowledge::MONGOENGINE_DOCUMENT_BASES)
                {
                    (None, DeclaredFields::Made(&mongoengine_fields))
                } else if project.inherits_external(class_id, knowledge::WSME_COMPLEX_TYPE_BASES) {
                    (None, DeclaredFields::EveryPublic)
                } else if bokeh_models.reached_by(project, class_id) {
                    (None, DeclaredFields::Made(&bokeh_properties))
                } else {
                    // A mixin declaring form fields is settled once every class made in the tree
                    // is known (below).
                    if class.bindings.iter().any(|binding| {
                        DeclaredFields::Made(&form_fields).declares(project, file_id, binding)
                    }) && project
                        .descendants(class_id)
                        .iter()
                        .all(|&d| project.inherits_external(d, knowledge::FIELD_BINDING_FORMS))
                        && !project.has_class_method(class_id)
                        // A base outside the tree may be a form this knowledge does not name
                        // (WTForms' own `BaseForm`, which binds no field): no mixin then.
                        && project.external_bases(class_id).is_empty()
                    {
                        form_mixins.push((file_id, index as u32));
                    }
                    continue;
                };
                declare_fields(
                    project,
                    (&mut by_class, &mut order),
                    class_id,
                    &class.bindings,
                    bound,
                    fields,
                );
            }
        }
        // A mixin that declares form fields and derives from no class outside the tree, whose
        // every subclass in the tree is a form and which nothing in the tree constructs itself,
        // is only ever a base of a form (indico's `type("_AbstractForm", tuple(mixins) + (AbstractForm,), {})`):
        // WTForms' `FormMeta` collects its fields with the form's, and `Form.__init__`, once the
        // mixin's `__init__` reaches it through `super().__init__`, binds them on the instance.
        let constructed = constructed_classes(project, &form_mixins);
        for (file_id, index) in form_mixins {
            let class_id = project.class_id(file_id, index);
            if constructed.contains(&class_id) {
                continue;
            }
            let Some(bound) = form_fields_bound(project, file_id, index) else {
                continue;
            };
            let class = &project.file(file_id).facts.classes[index as usize];
            declare_fields(
                project,
                (&mut by_class, &mut order),
                class_id,
                &class.bindings,
                bound,
                DeclaredFields::Made(&form_fields),
            );
        }
        let mut by_attr: HashMap<Name, Vec<(ClassId, Vec<InstanceAssignment>)>> =
            HashMap::default();
        for key in order {
            let assignments = by_class.remove(&key).unwrap_or_default();
            let (class, attr) = key;
            by_attr.entry(*attr).or_default().push((class, assignments));
        }
        InstanceAssignments {
            by_attr,
            computed_in_init,
        }
    }

    /// Whether an instance of `class` has its own `attr` whenever `method` runs on it, because
    /// every call of `method` in the tree is `self.method()` in a method of `class`'s MRO, made
    /// after that method gave the instance its own `attr` (`self.params = {}` in `run`, then
    /// `self.respond()`), or from a method for which this holds in turn. Asked only for what
    /// would otherwise be reported: each step scans the tree's calls of one name.
    pub fn shadowed_in_callers(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        method: FuncId,
    ) -> bool {
        // The proof needs a method that assigns the attribute after set-up and calls down to
        // `method`; the call graph's edges say cheaply whether one can, before the tree's calls
        // are scanned.
        let Some(assigning) = self.by_attr.get_text(attr) else {
            return false;
        };
        let binders: Vec<FuncId> = assigning
            .iter()
            .filter(|(c, _)| project.in_mro(class, *c))
            .flat_map(|(_, assignments)| assignments.iter().filter(|a| !a.in_setup))
            .filter_map(|a| Some(project.function_id(a.file, a.function?)))
            .collect();
        if binders.is_empty() {
            return false;
        }
        // The method that gives the instance its own may also be a set-up method that a caller
        // of `method` calls first (`self.reset()`, then `self.add(...)`): such a caller is a
        // method of `class`'s MRO that calls a binder directly.
        let callers_of_binders = project
            .mro(class)
            .filter_map(|entry| match entry {
                MroEntry::Class(c) => Some(*c),
                _ => None,
            })
            .flat_map(|c| project.own_methods(c))
            .filter(|caller| {
                binders
                    .iter()
                    .any(|binder| calls_within(project, *caller, *binder, 1))
            });
        (binders.iter().copied().chain(callers_of_binders))
            .any(|caller| calls_within(project, caller, method, MAX_CALLER_DEPTH))
            && self.shadowed_in_callers_within(project, class, attr, method, MAX_CALLER_DEPTH)
    }

    fn shadowed_in_callers_within(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        method: FuncId,
        depth: u32,
    ) -> bool {
        let (_, facts) = project.function(method);
        if depth == 0
            || facts.kind != FunctionKind::Instance
            || facts.parent.is_some()
            || project.call_graph().entry_kind(method).is_some()
            || !self
                .by_attr
                .get_text(attr)
                .is_some_and(|assigning| assigning.iter().any(|(c, _)| project.in_mro(class, *c)))
        {
            return false;
        }
        let name = facts.name.as_str();
        let calls = MethodCalls::collect(project, &[name].into_iter().collect());
        let Some(sites) = calls.sites(name) else {
            return false;
        };
        let (method_file, method_index) = project.function_in_file(method);
        // `self.method()` in `method` itself runs while an outer call of it runs, on the same
        // instance, which therefore still has its own `attr` (`del self.attr` is not recorded,
        // here as in `shadows`).
        let recursive = |file: FileId, index: u32| {
            let call = &project.file(file).facts.calls[index as usize];
            file == method_file
                && call.function() == Some(method_index)
                && call.receiver() == CallReceiver::SelfParam
                && !call.reference()
                && call.callee == name
        };
        // A call from tests runs under a test runner, not in the process that serves requests.
        let in_tests = |file: FileId, index: u32| {
            project.file(file).facts.calls[index as usize]
                .function()
                .is_some_and(|caller| in_test_code(project, file, caller))
        };
        // `self.m()` in a class outside `class`'s MRO whose instances, its subclasses' too, all
        // find another `m` (geonode's upload registry's `self._register()`) calls that other
        // method.
        let another_method = |file: FileId, index: u32| {
            let call = &project.file(file).facts.calls[index as usize];
            call.receiver() == CallReceiver::SelfParam
                && call.callee == name
                && call
                    .function()
                    .and_then(|caller| project.method_class(file, caller))
                    .is_some_and(|other| {
                        !project.in_mro(class, other)
                            && std::iter::once(&other)
                                .chain(project.descendants(other))
                                .all(|&c| project.lookup_method(c, name) != Some(method))
                    })
        };
        let elsewhere = |file: FileId, index: u32| {
            recursive(file, index) || in_tests(file, index) || another_method(file, index)
        };
        sites.iter().any(|&(file, index)| !elsewhere(file, index))
            && sites.iter().all(|&(file, index)| {
                if elsewhere(file, index) {
                    return true;
                }
                let call = &project.file(file).facts.calls[index as usize];
                match call.receiver() {
                    // `module.respond()` is another function, not a call of the method.
                    CallReceiver::Name if !call.reference() => {
                        match project.resolve(file, call.function(), &call.callee) {
                            Resolved::Function(other) => other != method,
                            Resolved::External(_) => true,
                            _ => false,
                        }
                    }
                    CallReceiver::SelfParam if !call.reference() && call.callee == name => {
                        call.function().is_some_and(|caller| {
                            let caller_class = project.method_class(file, caller);
                            project.outermost_function(file, caller) == caller
                                && caller_class.is_some_and(|c| project.in_mro(class, c))
                                && (self.shadows(
                                    project,
                                    class,
                                    attr,
                                    file,
                                    caller,
                                    call.span.start,
                                ) || self.shadowed_in_callers_within(
                                    project,
                                    class,
                                    attr,
                                    project.function_id(file, caller),
                                    depth - 1,
                                ))
                        })
                    }
                    _ => false,
                }
            })
    }

    /// Whether an instance of `class` has its own `attr` by the time code at `start` in
    /// `function` of `file` runs.
    pub fn shadows(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        file: FileId,
        function: u32,
        start: u32,
    ) -> bool {
        if self.computed_in_init(project, class, file, function, start) {
            return true;
        }
        let Some(assigning) = self.by_attr.get_text(attr) else {
            return false;
        };
        assigning.iter().any(|(c, assignments)| {
            project.in_mro(class, *c)
                && assignments.iter().any(|a| {
                    let same_function = a.file == file && a.function == Some(function);
                    if same_function {
                        a.start < start
                    } else {
                        a.in_setup
                    }
                })
        }) || self.guarded_by_own_value(project, class, attr, file, function, start)
            || self.own_from_self_call_before(project, class, attr, file, function, start)
    }

    /// Whether `function` of `file`, before `start`, calls `self.m()` on every call that gets
    /// that far (not under an `if`, in a loop, or after an early `return`), where `m` gives the
    /// instance its own `attr` whenever it returns ([`Self::binds_own_on_every_call`]):
    /// geonode's `init_registry` calls `self.reset()`, which binds `self.REGISTRY = {}`, before
    /// it adds to `self.REGISTRY`.
    fn own_from_self_call_before(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        file: FileId,
        function: u32,
        start: u32,
    ) -> bool {
        let facts = &project.file(file).facts;
        facts.calls.iter().any(|call| {
            call.function() == Some(function)
                && call.span.start < start
                && call.receiver() == CallReceiver::SelfParam
                && !call.reference()
                && !call.callee.contains('.')
                && facts.runs_on_every_call(call.span.start)
                && self.binds_own_on_every_call(project, class, attr, &call.callee)
        })
    }

    /// Whether `self.name()` on an instance of `class` gives it its own `attr` whenever it
    /// returns: the method an instance of `class`, or of any class deriving from it, finds under
    /// `name` is a plain (not `async`: a coroutine runs only when awaited) method of the
    /// instance that binds `self.attr` to an object of its own in a statement run on every call
    /// that gets that far.
    fn binds_own_on_every_call(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        name: &Name,
    ) -> bool {
        let Some(assigning) = self.by_attr.get_text(attr) else {
            return false;
        };
        std::iter::once(&class)
            .chain(project.descendants(class))
            .all(|&c| {
                let Some(method) = project.lookup_method(c, name) else {
                    return false;
                };
                let (file, index) = project.function_in_file(method);
                let facts = &project.file(file).facts;
                let function = &facts.functions[index as usize];
                !function.is_async
                    && function.kind == FunctionKind::Instance
                    && function.parent.is_none()
                    && assigning.iter().any(|(_, assignments)| {
                        assignments.iter().any(|a| {
                            a.file == file
                                && a.function == Some(index)
                                && facts.runs_on_every_call(a.start)
                        })
                    })
            })
    }

    /// Whether `local`, a local of `function` in `file` bound once to a new instance of a class
    /// (`collection = Collection()`), has its own `attr` by the time code at `start` runs: the
    /// function binds `local.attr` to a new object (not to what a name or an attribute holds)
    /// before it, in a statement run on every call that gets that far. magnum's
    /// `collection.mservices = []` before `collection.mservices.append(...)`: the same as
    /// `self.x = []` before a change of `self.x` in a method ([`Self::shadows`]).
    pub fn local_given_own(
        project: &Project,
        file: FileId,
        function: u32,
        local: &Name,
        attr: &str,
        start: u32,
    ) -> bool {
        let facts = &project.file(file).facts;
        let constructed_once = facts.functions[function as usize]
            .typed_locals
            .iter()
            .any(|t| t.name == *local && t.exact);
        constructed_once
            && facts.attribute_assignments.iter().any(|a| {
                a.function == function
                    && a.attr.as_str() == attr
                    && a.span.start < start
                    && a.object.attrs.is_empty()
                    && matches!(&a.object.root, Root::Local(name) if name == local)
                    && !matches!(a.value, Value::Alias(_))
                    && facts.runs_on_every_call(a.span.start)
            })
    }

    /// Whether an instance of `class` has its own `attr` from its creation on: a set-up method
    /// gives it one, or its `__init__` may set any attribute (see [`Self::computed_in_init`]).
    /// What a change through a new instance held in a local may rely on, where [`Self::shadows`]
    /// also counts what the function binds on `self`, another object.
    pub fn own_from_creation(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        file: FileId,
        function: u32,
        start: u32,
    ) -> bool {
        self.computed_in_init(project, class, file, function, start)
            || self.by_attr.get_text(attr).is_some_and(|assigning| {
                assigning.iter().any(|(c, assignments)| {
                    project.in_mro(class, *c) && assignments.iter().any(|a| a.in_setup)
                })
            })
    }

    /// Whether an instance of `class` may have its own value of any attribute by the time code
    /// at `start` in `function` of `file` runs: an `__init__` that every construction runs sets
    /// attributes under names from the instance's own state, and the code is not in a set-up
    /// method (which may run before that `__init__` does), or is in that `__init__` after it.
    fn computed_in_init(
        &self,
        project: &Project,
        class: ClassId,
        file: FileId,
        function: u32,
        start: u32,
    ) -> bool {
        if self.computed_in_init.is_empty() {
            return false;
        }
        let facts = &project.file(file).facts;
        let outer = project.outermost_function(file, function);
        let in_setup = knowledge::INSTANCE_SETUP_METHODS
            .contains(&facts.functions[outer as usize].name.as_str());
        self.computed_in_init.iter().any(|&(c, f, init, at)| {
            project.in_mro(class, c)
                && if f == file && init == function {
                    at < start
                } else {
                    !in_setup && every_construction_runs_init(project, class, c)
                }
        })
    }

    /// Whether code at `start` in `function` of `file` runs only in the body of `if
    /// self.g(...):` where `g`, as an instance of `class` finds it, hands back a true value only
    /// once the instance has its own `attr`: each of its `return`s hands back nothing, `None` or
    /// `False`, or comes after a statement of its body itself that gives the instance its own
    /// `attr`, or hands back `self.b` where `b` holds a true value only on instances that have
    /// their own `attr` ([`Self::true_only_with_own`]). flask-restx's `Wildcard.output` adds to
    /// `self._cache` under `if self._flatten(obj):`, and `_flatten` returns `None`, `self._flat`,
    /// or `self._flat` after `self._cache = set()`.
    fn guarded_by_own_value(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        file: FileId,
        function: u32,
        start: u32,
    ) -> bool {
        let facts = &project.file(file).facts;
        facts
            .self_call_guards
            .iter()
            .filter(|g| g.function == function && g.body.start <= start && start < g.body.end)
            .any(|guard| {
                let Some(method) = project.lookup_method(class, &guard.method) else {
                    return false;
                };
                let (method_file, index) = project.function_in_file(method);
                let method_facts = &project.file(method_file).facts;
                if method_facts.functions[index as usize].is_async {
                    return false;
                }
                method_facts
                    .method_returns
                    .iter()
                    .filter(|r| r.function == index)
                    .all(|r| match &r.value {
                        Returned::Falsy => true,
                        _ if self.own_before(project, attr, method_file, index, r.start) => true,
                        Returned::SelfAttribute(b) => {
                            self.true_only_with_own(project, class, b, attr)
                        }
                        Returned::Other => false,
                    })
            })
    }

    /// Whether a statement of the body of `function` itself (not nested in an `if`, a loop or a
    /// `try`) before `at` gives the instance its own `attr`.
    fn own_before(
        &self,
        project: &Project,
        attr: &str,
        file: FileId,
        function: u32,
        at: u32,
    ) -> bool {
        let facts = &project.file(file).facts;
        let Some(assigning) = self.by_attr.get_text(attr) else {
            return false;
        };
        facts.top_level_self_stores.iter().any(|(f, a, start)| {
            *f == function
                && a == attr
                && *start < at
                && assigning.iter().any(|(_, assignments)| {
                    assignments.iter().any(|x| {
                        x.file == file && x.function == Some(function) && x.start == *start
                    })
                })
        })
    }

    /// Whether `self.b` holds a true value only on instances of `class` that have their own
    /// `attr`: the class-level `b` along the MRO, if any, is `None`; every assignment of an
    /// attribute `b` in the tree is `self.b = ...` in a method of `class`'s MRO, and assigns
    /// `None` or is followed, in the body of its method itself and with no `return` between,
    /// by a statement that gives the instance its own `attr` (or comes after one).
    fn true_only_with_own(&self, project: &Project, class: ClassId, b: &Name, attr: &str) -> bool {
        if let Some((_, binding)) = project.lookup_class_attribute(class, b)
            && binding.value != Value::None
        {
            return false;
        }
        let mro: HashSet<ClassId> = super::project_mro(project, class).collect();
        project.files.iter().enumerate().all(|(file, facts)| {
            let file = file as FileId;
            let facts = &facts.facts;
            // `setattr(x, "b", v)`, or `setattr(self, name, v)` in a method of the MRO.
            let by_setattr = facts.setattr_calls.iter().any(|s| match &s.name {
                Some(name) => name == b,
                None => {
                    s.object == AccessPath::new(Root::SelfParam)
                        && project
                            .method_class(file, s.function)
                            .is_some_and(|c| mro.contains(&c))
                }
            });
            !by_setattr
                && facts.attribute_assignments.iter().all(|a| {
                    if a.attr != *b {
                        return true;
                    }
                    if a.object != AccessPath::new(Root::SelfParam)
                        || !project
                            .method_class(file, a.function)
                            .is_some_and(|c| mro.contains(&c))
                    {
                        return false;
                    }
                    if a.value == Value::None {
                        return true;
                    }
                    let store = a.span.start;
                    facts.top_level_self_stores.iter().any(|(f, x, own)| {
                        *f == a.function
                            && x == attr
                            && (*own < store
                                || !facts.method_returns.iter().any(|r| {
                                    r.function == a.function && store < r.start && r.start < *own
                                }))
                            && self.own_before(project, attr, file, a.function, own + 1)
                    })
                })
        })
    }
}

/// The assignments that give instances their own value, by class and attribute, as
/// [`InstanceAssignments`] gathers them.
type AssignmentsByClass<'p> = HashMap<(ClassId, &'p Name), Vec<InstanceAssignment>>;

/// Records each of `bindings` (the class body of `class`) that `fields` declares as the
/// instance's own from `bound` on ([`form_fields_bound`]; `None`: from the instance's creation).
fn declare_fields<'p>(
    project: &'p Project,
    (by_class, order): (&mut AssignmentsByClass<'p>, &mut Vec<(ClassId, &'p Name)>),
    class: ClassId,
    bindings: &'p [Binding],
    bound: Option<(u32, u32)>,
    fields: DeclaredFields<'_>,
) {
    let (file, _) = project.class(class);
    for binding in bindings {
        if fields.declares(project, file, binding) {
            by_class
                .entry((class, &binding.name))
                .or_insert_with(|| {
                    order.push((class, &binding.name));
                    Vec::new()
                })
                .push(InstanceAssignment {
                    file,
                    function: bound.map(|(function, _)| function),
                    start: bound.map_or(0, |(_, start)| start),
                    in_setup: true,
                });
        }
    }
}

/// Where a form class's fields become the instance's own: `Some(None)` when the class has no
/// `__init__` (the library's runs first), `Some(Some((init, start)))` at its `__init__`'s
/// `super().__init__(...)` call, and `None` when its `__init__` makes no such call.
fn form_fields_bound(project: &Project, file: FileId, class: u32) -> Option<Option<(u32, u32)>> {
    let facts = &project.file(file).facts;
    // The last definition is the one the class body leaves bound.
    let Some(&init) = facts
        .class_methods()
        .of_class(class)
        .iter()
        .rev()
        .find(|&&f| facts.functions[f as usize].name == "__init__")
    else {
        return Some(None);
    };
    facts
        .calls
        .iter()
        .find(|call| {
            call.function() == Some(init)
                && matches!(call.receiver(), CallReceiver::Super)
                && !call.reference()
                && call.callee == "__init__"
        })
        .map(|call| Some((init, call.span.start)))
}

/// Whether every construction of an instance of `class` runs the `__init__` of `base` (a class
/// of its MRO): each class before `base` in the MRO either defines no `__init__` or calls
/// `super().__init__(...)` in its own, and no base outside the tree comes before it (its
/// `__init__` is unknown).
fn every_construction_runs_init(project: &Project, class: ClassId, base: ClassId) -> bool {
    let init: Name = "__init__".into();
    for entry in project.mro(class) {
        let MroEntry::Class(c) = entry else {
            return false;
        };
        if *c == base {
            return true;
        }
        if let Some(own) = project.own_method(*c, &init) {
            let (file, index) = project.function_in_file(own);
            let calls_super = project.file(file).facts.calls.iter().any(|call| {
                call.function() == Some(index)
                    && matches!(call.receiver(), CallReceiver::Super)
                    && !call.reference()
                    && call.callee == "__init__"
            });
            if !calls_super {
                return false;
            }
        }
    }
    false
}

/// Which class-level bindings a framework's class turns into each instance's own value.
#[derive(Clone, Copy)]
enum DeclaredFields<'k> {
    /// Those that call a field class `known` tells (or a class of the tree deriving from one).
    Made(&'k KnownClasses),
    /// Every name without a leading underscore, whatever it is bound to: WSME's registry makes
    /// each a `wsattr` (a routine or a plain property, which it keeps, holds no shared object).
    EveryPublic,
}

impl DeclaredFields<'_> {
    fn declares(self, project: &Project, file: FileId, binding: &Binding) -> bool {
        match self {
            DeclaredFields::Made(known) => matches!(
                &binding.value,
                Value::Call { callee } if makes_field(project, file, callee, known)
            ),
            DeclaredFields::EveryPublic => !binding.name.starts_with('_'),
        }
    }
}

/// Whether `callee`, called in a class body of `file`, makes a field of the framework whose field
/// classes `known` tells (WTForms' and Flask-WTF's form fields, Django's model fields, bokeh's
/// properties): one of them, or a class of the tree deriving from one.
fn makes_field(project: &Project, file: FileId, callee: &Name, known: &KnownClasses) -> bool {
    match project.resolve(file, None, callee) {
        Resolved::External(name) => (known.by_name)(name.as_str()),
        Resolved::Class(class) => known.reached_by(project, class),
        _ => false,
    }
}

/// Classes a framework's knowledge tells by fully qualified name (`knowledge::is_form_field`,
/// `knowledge::is_bokeh_model`), outside the analysed tree or, when the framework is analysed as
/// itself (bokeh's own `HasProps`), in it: there only the classes deriving from its named roots,
/// as a module of the tree under the framework's package may hold other classes too.
struct KnownClasses {
    by_name: fn(&str) -> bool,
    /// The framework's roots among the classes of the tree.
    in_tree: Vec<ClassId>,
}

impl KnownClasses {
    /// Known only outside the tree: a framework the knowledge reads only as users import it.
    fn outside(by_name: fn(&str) -> bool) -> Self {
        KnownClasses {
            by_name,
            in_tree: Vec::new(),
        }
    }

    /// Known outside the tree by `by_name`, and in it, when the framework is analysed as
    /// itself, as the classes of the tree that `roots` (fully qualified) name: its subclasses.
    fn anywhere(project: &Project, by_name: fn(&str) -> bool, roots: &[&str]) -> Self {
        KnownClasses {
            by_name,
            in_tree: roots
                .iter()
                .filter_map(|root| match project.resolve_qualified(root) {
                    Resolved::Class(class) => Some(class),
                    _ => None,
                })
                .collect(),
        }
    }

    /// Whether the MRO of `class` holds a known class.
    fn reached_by(&self, project: &Project, class: ClassId) -> bool {
        project
            .external_bases(class)
            .iter()
            .any(|name| (self.by_name)(name.as_str()))
            || self
                .in_tree
                .iter()
                .any(|&known| project.in_mro(class, known))
    }
}

/// Which of `classes` (file and index) a call in the tree constructs (`Mixin(...)`, as the callee
/// resolves): a class's name is matched against each call's last name before it is resolved.
fn constructed_classes(project: &Project, classes: &[(FileId, u32)]) -> HashSet<ClassId> {
    let mut constructed = HashSet::default();
    if classes.is_empty() {
        return constructed;
    }
    let asked: HashSet<ClassId> = classes
        .iter()
        .map(|&(file, index)| project.class_id(file, index))
        .collect();
    let names: HashSet<&str> = classes
        .iter()
        .map(|&(file, index)| {
            project.file(file).facts.classes[index as usize]
                .name
                .as_str()
        })
        .collect();
    let filter = NameFilter::of(names.iter().copied());
    for (file, source) in project.files.iter().enumerate() {
        let call_names = source.facts.call_names();
        for (index, call) in source.facts.calls.iter().enumerate() {
            if !filter.may_hold(call_names.last(index)) || call.reference() {
                continue;
            }
            let last = call.callee.rsplit('.').next().unwrap_or_default();
            if !names.contains(last) {
                continue;
            }
            if let Resolved::Class(class) =
                project.resolve(file as FileId, call.function(), &call.callee)
                && asked.contains(&class)
            {
                constructed.insert(class);
            }
        }
    }
    constructed
}

/// The methods that run on every new instance, by class: those a set-up method (`__init__`,
/// `setUp`, ...) calls on `self` in its body (`self.clear_filters()` in `__init__`), and, down to
/// [`MAX_CALLER_DEPTH`] calls, those that such a method calls on `self` in its body in turn, as
/// its own class or a subclass that overrides it defines it (`__init__` calls `self._init_db()`,
/// which calls `self.database_init()`, which a subclass overrides to call `self._load_csv()`).
/// What they assign the instance it has from its creation on.
fn setup_callees(project: &Project) -> HashSet<(ClassId, &Name)> {
    // The methods of classes by name, and the set-up methods, each with its class.
    let mut methods: HashMap<&Name, Vec<(ClassId, FileId, u32)>> = HashMap::default();
    let mut asked: Vec<(FileId, u32, ClassId)> = Vec::new();
    for (file, data) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, function) in data.facts.functions.iter().enumerate() {
            if function.parent.is_none()
                && let Some(class) = project.method_class(file, index as u32)
            {
                methods
                    .entry(&function.name)
                    .or_default()
                    .push((class, file, index as u32));
                if knowledge::INSTANCE_SETUP_METHODS.contains(&function.name.as_str()) {
                    asked.push((file, index as u32, class));
                }
            }
        }
    }
    let mut callees: HashSet<(ClassId, &Name)> = HashSet::default();
    for depth in 0..MAX_CALLER_DEPTH {
        let mut frontier: Vec<(ClassId, &Name)> = Vec::new();
        for (class, name) in self_calls(project, asked) {
            if callees.insert((class, name)) {
                frontier.push((class, name));
            }
        }
        // The override a subclass's instances run for such a call is set-up too (a base's
        // `__init__` calls `self.setup()`, which the subclass overrides to bind its own set):
        // when every class that inherits the override finds that same method, and every
        // construction of the subclass runs the `__init__` of the calling method's class.
        for &(class, name) in &frontier {
            for &(owner, file, method) in methods.get(name).into_iter().flatten() {
                if owner != class
                    && project.in_mro(owner, class)
                    && overrides_for_every_instance(project, owner, name, file, method)
                    && every_construction_runs_init(project, owner, class)
                {
                    callees.insert((owner, name));
                }
            }
        }
        if depth + 1 == MAX_CALLER_DEPTH {
            break;
        }
        asked = frontier
            .into_iter()
            .flat_map(|(class, name)| {
                methods
                    .get(name)
                    .into_iter()
                    .flatten()
                    .filter(move |(owner, ..)| project.in_mro(*owner, class))
                    .map(|&(owner, file, method)| (file, method, owner))
            })
            .collect();
    }
    callees
}

/// Whether an instance of `owner` or of any class deriving from it finds `owner`'s own method
/// `name` (`file`, `method`).
fn overrides_for_every_instance(
    project: &Project,
    owner: ClassId,
    name: &Name,
    file: FileId,
    method: u32,
) -> bool {
    let own = project.function_id(file, method);
    std::iter::once(&owner)
        .chain(project.descendants(owner))
        .all(|&class| project.lookup_method(class, name) == Some(own))
}

/// What each of `methods` (file, index, and its class) calls on `self` in its own body (a call
/// in a function nested in it is that function's), with the method's class: the calls of each
/// file with methods asked are read once.
fn self_calls(
    project: &Project,
    mut methods: Vec<(FileId, u32, ClassId)>,
) -> Vec<(ClassId, &Name)> {
    methods.sort_unstable();
    methods.dedup();
    let mut found = Vec::new();
    for of_file in methods.chunk_by(|a, b| a.0 == b.0) {
        let facts = &project.file(of_file[0].0).facts;
        for call in &facts.calls {
            let Some(caller) = call.function() else {
                continue;
            };
            if call.receiver() != CallReceiver::SelfParam
                || call.reference()
                || facts.functions[caller as usize].class.is_none()
            {
                continue;
            }
            let at = of_file.partition_point(|(_, method, _)| *method < caller);
            for &(_, _, class) in of_file[at..].iter().take_while(|(_, m, _)| *m == caller) {
                found.push((class, &call.callee));
            }
        }
    }
    found
}

/// Whether `from` calls `to` through at most `depth` edges of the call graph.
fn calls_within(project: &Project, from: FuncId, to: FuncId, depth: u32) -> bool {
    let graph = project.call_graph();
    let mut frontier = vec![from];
    let mut seen: HashSet<FuncId> = [from].into_iter().collect();
    for _ in 0..depth {
        let mut next = Vec::new();
        for function in frontier {
            for edge in graph.callees(function) {
                if edge.to == to {
                    return true;
                }
                if seen.insert(edge.to) {
                    next.push(edge.to);
                }
            }
        }
        frontier = next;
    }
    false
}

/// Which of `classes` the tree only ever extends, so that no instance of the class itself is
/// made and an instance running one of its methods is always one of a subclass: a class with a
/// subclass in the tree that no call of the tree constructs (`Base(...)`, tests included), that
/// no call is handed as a value (`register(Base)`; `super(Base, self)`, `isinstance(x, Base)`
/// and `issubclass(c, Base)` hand it on to read it only), that no module-level or class-level
/// binding aliases (`DEFAULT = Base`), through which no classmethod is called (`Base.create()`,
/// which may run `cls()`), and with no metaclass in its MRO and no base outside the tree but
/// `object` or `abc.ABC` (a framework's metaclass or base may construct the classes it
/// registers), and that no code reads as a value (`FileFacts::class_value_reads`: `{"asg":
/// AutoScalingGroup}`, `command_class = commands.Worker`), its name only ever called, a base,
/// the receiver of an attribute (`RegexFilter.initialize_plugin(self)`) or handed to `super`,
/// `isinstance` or `issubclass`. A subclass is the only use the tree makes of it (ec2-api's
/// `TaggableItemsDescriber`, bandersnatch's `RegexFilter`); a class with no subclass in the tree
/// is not one, since what uses it (an application of a library) may construct it.
pub fn only_extended(project: &Project, classes: &HashSet<ClassId>) -> HashSet<ClassId> {
    let mut candidates: HashSet<ClassId> = classes
        .iter()
        .copied()
        .filter(|&class| {
            !project.descendants(class).is_empty()
                && project
                    .external_bases(class)
                    .iter()
                    .all(|base| matches!(base.as_str(), "object" | "builtins.object" | "abc.ABC"))
                && project.mro(class).all(|entry| match entry {
                    MroEntry::Class(c) => project.class(*c).1.metaclass.is_none(),
                    MroEntry::External(_) => true,
                })
        })
        .collect();
    if candidates.is_empty() {
        return candidates;
    }
    let names: HashSet<Name> = candidates
        .iter()
        .map(|&class| project.class(class).1.name)
        .collect();
    let mut used: HashSet<ClassId> = HashSet::default();
    let resolved = |file: FileId, function: Option<u32>, written: &str| match project
        .resolve(file, function, written)
    {
        Resolved::Class(class) if candidates.contains(&class) => Some(class),
        _ => None,
    };
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        for call in facts.calls.iter() {
            if !matches!(call.receiver(), CallReceiver::Name | CallReceiver::Local) {
                continue;
            }
            let callee = call.callee.as_str();
            let (prefix, last) = match callee.rsplit_once('.') {
                Some((prefix, last)) => (Some(prefix), last),
                None => (None, callee),
            };
            if crate::facts::interned(last).is_some_and(|last| names.contains(&last))
                && let Some(class) = resolved(file, call.function(), callee)
            {
                let only_read = call.reference()
                    && call.argument_of.get().is_some_and(|outer| {
                        matches!(
                            facts.calls[outer as usize].callee.as_str(),
                            "super" | "isinstance" | "issubclass"
                        )
                    });
                if !only_read {
                    used.insert(class);
                }
                continue;
            }
            if call.reference() {
                continue;
            }
            let Some(prefix) = prefix else {
                continue;
            };
            let owner = prefix.rsplit('.').next().unwrap_or(prefix);
            if crate::facts::interned(owner).is_some_and(|owner| names.contains(&owner))
                && let Some(class) = resolved(file, call.function(), prefix)
                && project
                    .lookup_method(class, last)
                    .is_some_and(|m| project.function(m).1.kind == FunctionKind::ClassMethod)
            {
                used.insert(class);
            }
        }
        // A class read as a value (`kind = commands.Worker`, `{"group": Group}`) may be
        // constructed by whatever receives it; a name that resolves to no class here (a local,
        // an import inside a function) may be any class of its name.
        for read in facts.class_value_reads.iter() {
            let text = read.as_str();
            let last = text.rsplit('.').next().unwrap_or(text);
            if !crate::facts::interned(last).is_some_and(|last| names.contains(&last)) {
                continue;
            }
            match project.resolve(file, None, text) {
                Resolved::Class(class) => {
                    used.insert(class);
                }
                _ => used.extend(
                    candidates
                        .iter()
                        .filter(|&&c| project.class(c).1.name.as_str() == last),
                ),
            }
        }
        let bindings = facts
            .globals
            .iter()
            .chain(facts.classes.iter().flat_map(|c| c.bindings.iter()));
        for binding in bindings {
            let Value::Alias(path) = &binding.value else {
                continue;
            };
            let Root::Global(root) = &path.root else {
                continue;
            };
            let last = path.attrs.last().unwrap_or(root);
            if !names.contains(last) {
                continue;
            }
            let mut written = root.as_str().to_string();
            for attr in &path.attrs {
                written.push('.');
                written.push_str(attr.as_str());
            }
            if let Some(class) = resolved(file, None, &written) {
                used.insert(class);
            }
        }
    }
    candidates.retain(|class| !used.contains(class));
    candidates
}
