//! Where each class gives its instances their own value of an attribute (`self.x = []` in a
//! method, or a framework's copy of class-level defaults into each instance): an instance whose
//! `x` is its own no longer reaches the class's `x`. Several rules ask, so the model works it out
//! once per run.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::call_names::NameFilter;
use crate::facts::{
    AccessPath, ArgPosition, Binding, ByText, CallReceiver, FlowSource, FlowTarget, FunctionKind,
    ImportTarget, Name, Returned, Root, Value,
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

/// What makes an instance of the classes a construction proof is about, by how it is written.
struct MadeBy<'p> {
    /// The classes: one and those deriving from it.
    classes: Vec<ClassId>,
    /// The names they may be called by: theirs, and what `from m import C as D` binds.
    names: HashSet<&'p str>,
    /// The classes whose methods `cls(...)` or `type(self)(...)` may make one of them in: those
    /// of their MROs.
    makers: HashSet<ClassId>,
}

impl InstanceAssignments {
    /// Whether every instance of `class` (or of a class deriving from it) that the tree makes is
    /// given its own `attr` as it is made, before any code of the tree runs on it: each is made
    /// by a call that runs no `__init__`, `__new__` or `__setattr__` of the tree (no base
    /// outside the tree but `object`, no metaclass), in a function, as the whole value of
    /// `name = C(...)` or `name = cls(...)` (the local's one binding), followed by `name.attr =
    /// <not the class's own object>` in a statement run on every call, with nothing before it
    /// that hands the new object on, calls its methods, changes it, assigns it an attribute
    /// that runs code (a method or property of that name) or lets a nested function see it.
    /// No other call makes one: `cls()` or `type(self)()` elsewhere in a method of the classes'
    /// MROs, `type(x)()` or `x.__class__()` anywhere, a call of the class handed on as a value
    /// (by name, or through a class attribute it is bound to: `BaseStorage.partial =
    /// PartialMixin`, then `storage.partial()`). social-auth-core's `PartialMixin.prepare`:
    /// `partial = cls()`, `partial.data = data`, `return partial`. A method whose body only
    /// raises makes none.
    ///
    /// The constructions seen must be all there are, and there must be one: at least one
    /// construction binds the attribute (a class the tree never makes by name, pproxy's plugins
    /// gathered from `globals()` into a table, proves nothing); no module of the tree reads
    /// `globals()`, `vars()`, `locals()` or `__subclasses__()`, or hands a module holding one of
    /// the classes to `getattr`; a call whose callee ends with a name of the classes but does not
    /// resolve (solum's module-level `registry_mod.Registry()`) is a construction without the
    /// binding; and the attribute a class is bound to (`BaseStorage.partial = PartialMixin`) is
    /// not called, nor handed on, returned or bound to a name except when read on a local the
    /// function binds only to what calls return, never to a parameter, a global or an attribute
    /// (social-auth-core's `resume_partial(partial.partial)`, `partial` being
    /// `partial_pipeline_result(...)`).
    pub fn bound_at_every_construction(project: &Project, class: ClassId, attr: &str) -> bool {
        let classes: Vec<ClassId> = std::iter::once(class)
            .chain(project.descendants(class).iter().copied())
            .collect();
        let mut makers = HashSet::default();
        for &c in &classes {
            for entry in project.mro(c) {
                match entry {
                    MroEntry::Class(base) => {
                        let facts = project.class(*base).1;
                        if facts.metaclass.is_some() || facts.bases.iter().any(Option::is_none) {
                            return false;
                        }
                        makers.insert(*base);
                    }
                    MroEntry::External(name) if name.as_str() == "object" => {}
                    MroEntry::External(_) => return false,
                }
            }
            if ["__init__", "__new__", "__setattr__"]
                .iter()
                .any(|special| project.lookup_method(c, *special).is_some())
            {
                return false;
            }
        }
        let mut names: HashSet<&str> = classes
            .iter()
            .map(|&c| project.class(c).1.name.as_str())
            .collect();
        for file in &project.files {
            for import in &file.facts.imports {
                if let ImportTarget::Member { name, .. } = &import.target
                    && names.contains(name.as_str())
                {
                    names.insert(import.binding.as_str());
                }
            }
        }
        // Where the classes are defined: a module handed to `getattr` may give one of them.
        let homes: HashSet<FileId> = classes.iter().map(|&c| project.class(c).0).collect();
        for (file_id, file) in project.files.iter().enumerate() {
            let facts = &file.facts;
            // What `getattr(x, ...)` or `vars(x)` is given a name for.
            let first_argument = |index: usize| {
                facts.flows.iter().find_map(|flow| {
                    match (flow.source(), flow.target().argument()) {
                        (FlowSource::Name { name, .. }, Some((call, ArgPosition::Index(0))))
                            if call as usize == index =>
                        {
                            Some((flow.function(), name))
                        }
                        _ => None,
                    }
                })
            };
            let a_home = |(function, name): (Option<u32>, Name)| {
                matches!(
                    project.resolve(file_id as FileId, function, &name),
                    Resolved::Module(home) if homes.contains(&home)
                )
            };
            let reflective = facts.calls.iter().enumerate().any(|(index, call)| {
                match call.callee.as_str() {
                    "globals" | "locals" => true,
                    // `vars()` itself: a call at module level, or one recorded as passing
                    // nothing (`call_arguments`); `vars(obj)` reads an object's attributes.
                    "vars" => {
                        call.function().is_none()
                            || facts.call_arguments.iter().any(|given| {
                                given.call as usize == index
                                    && given.positional.is_empty()
                                    && given.keywords.is_empty()
                                    && !given.splat
                            })
                            || first_argument(index).is_some_and(a_home)
                    }
                    "getattr" => first_argument(index).is_some_and(a_home),
                    callee => callee.rsplit('.').next() == Some("__subclasses__"),
                }
            });
            if reflective {
                return false;
            }
        }
        let made_by = MadeBy {
            classes,
            names,
            makers,
        };
        // The constructions that bind the attribute: there must be one.
        let binding_constructions = std::cell::Cell::new(0u32);
        // The class attributes a class is bound to (`partial = PartialMixin` in a class body):
        // calling one through any object makes an instance.
        let mut holders: HashSet<&Name> = HashSet::default();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            for global in &facts.globals {
                if made_by.aliases(project, file_id, None, &global.value) {
                    return false;
                }
            }
            for class_facts in &facts.classes {
                for binding in &class_facts.bindings {
                    if made_by.aliases(project, file_id, None, &binding.value) {
                        holders.insert(&binding.name);
                    }
                }
            }
        }
        project.files.iter().enumerate().all(|(file_id, file)| {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            // A method of a local of unknown class is kept only by its name.
            if facts
                .untyped_method_calls
                .iter()
                .any(|method| holders.contains(method))
            {
                return false;
            }
            let calls_ok = facts.calls.iter().enumerate().all(|(index, call)| {
                let last = call.callee.rsplit('.').next().unwrap_or_default();
                // `storage.partial()`, `self.partial()`: not `partial()`, a module's name.
                let through_attribute = call.callee.contains('.')
                    || matches!(
                        call.receiver(),
                        CallReceiver::SelfParam | CallReceiver::Class
                    );
                if through_attribute && holders.iter().any(|h| h.as_str() == last) {
                    return false;
                }
                let (written, method) = match call.callee.rsplit_once('.') {
                    Some((written, method)) if !made_by.names.contains(last) => {
                        (written, Some(method))
                    }
                    _ => (call.callee.as_str(), None),
                };
                let written_last = written.rsplit('.').next().unwrap_or_default();
                // A class imported in the function is a local there.
                if !matches!(call.receiver(), CallReceiver::Name | CallReceiver::Local)
                    || !made_by.names.contains(written_last)
                {
                    return true;
                }
                match project.resolve(file_id, call.function(), written) {
                    Resolved::Class(c) if made_by.classes.contains(&c) => {}
                    // Another class or function of that name.
                    Resolved::Class(_) | Resolved::Function(_) | Resolved::Module(_) => {
                        return true;
                    }
                    // A name that does not resolve to a definition may be one of the classes
                    // (solum's `registry_mod.Registry()`, `registry_mod` read as the package's
                    // global of that name): a construction without the binding, or a method of
                    // the class whose effect is not known.
                    Resolved::Global(..) | Resolved::External(_) | Resolved::Unknown => {
                        return false;
                    }
                }
                match method {
                    // `C.prepare(...)` runs a method; what it makes is checked where it is.
                    Some(method) => method != "__new__" && method != "__call__",
                    None => {
                        !call.reference()
                            && call.argument_of.get().is_none()
                            && call.function().is_some_and(|function| {
                                let local = facts.flows.iter().find_map(|flow| {
                                    match (flow.function(), flow.target(), flow.source()) {
                                        (
                                            Some(f),
                                            FlowTarget::Name {
                                                name,
                                                global: false,
                                            },
                                            FlowSource::CallResult(i),
                                        ) if f == function && i == index as u32 => Some(name),
                                        _ => None,
                                    }
                                });
                                let bound = local.is_some_and(|local| {
                                    made_by.bound_before_handed_on(
                                        project,
                                        file_id,
                                        function,
                                        &local,
                                        call.span.start,
                                        attr,
                                    )
                                });
                                if bound {
                                    binding_constructions.set(binding_constructions.get() + 1);
                                }
                                bound
                            })
                    }
                }
            });
            let class_calls_ok = facts.class_calls.iter().all(|made| {
                let Some(function) = made.function else {
                    return !made.own;
                };
                let outer = project.outermost_function(file_id, function);
                let in_maker = project
                    .method_class(file_id, outer)
                    .is_some_and(|c| made_by.makers.contains(&c));
                if !made.own {
                    return false;
                }
                if !in_maker {
                    return true;
                }
                let bound = made.bound_to.as_ref().is_some_and(|local| {
                    made_by
                        .bound_before_handed_on(project, file_id, function, local, made.start, attr)
                });
                if bound {
                    binding_constructions.set(binding_constructions.get() + 1);
                }
                bound
            });
            // The class handed on as a value (`register(PartialMixin)`, `return PartialMixin`)
            // may be called anywhere; telling whether an object is one is not making one.
            let values_ok = facts.flows.iter().all(|flow| {
                let FlowSource::Name { receiver, name } = flow.source() else {
                    return true;
                };
                let last = name.rsplit('.').next().unwrap_or_default();
                // The class read through the attribute it is bound to and handed on: only on a
                // local that holds what calls return.
                if let Some((object, _)) = name.rsplit_once('.')
                    && holders.iter().any(|h| h.as_str() == last)
                    && !(receiver == CallReceiver::Local
                        && !object.contains('.')
                        && flow.function().is_some_and(|function| {
                            made_by.holds_call_results(project, file_id, function, object)
                        }))
                {
                    return false;
                }
                if !matches!(receiver, CallReceiver::Name | CallReceiver::Local)
                    || !made_by.names.contains(last)
                    || !made_by.is_one(project, file_id, flow.function(), &name)
                {
                    return true;
                }
                flow.target().argument().is_some_and(|(call, _)| {
                    matches!(
                        facts.calls[call as usize].callee.as_str(),
                        "isinstance" | "issubclass"
                    )
                })
            });
            calls_ok && class_calls_ok && values_ok
        }) && binding_constructions.get() > 0
    }
}

impl MadeBy<'_> {
    /// Whether `local` in `function` of `file` is no parameter and is bound only to what calls
    /// return (`partial = partial_pipeline_result(...)`).
    fn holds_call_results(
        &self,
        project: &Project,
        file: FileId,
        function: u32,
        local: &str,
    ) -> bool {
        let facts = &project.file(file).facts;
        if facts.functions[function as usize]
            .params
            .iter()
            .any(|p| p.name.as_str() == local)
        {
            return false;
        }
        let mut bindings = facts.flows.iter().filter(|flow| {
            flow.function() == Some(function)
                && matches!(flow.target(), FlowTarget::Name { name, .. } if name.as_str() == local)
        });
        let mut any = false;
        let all_calls = bindings.all(|flow| {
            any = true;
            matches!(flow.source(), FlowSource::CallResult(_))
        });
        any && all_calls
            && !facts
                .captured
                .iter()
                .any(|(_, name)| name.as_str() == local)
    }

    /// Whether `written`, read in `function` of `file`, is one of the classes.
    fn is_one(
        &self,
        project: &Project,
        file: FileId,
        function: Option<u32>,
        written: &str,
    ) -> bool {
        matches!(
            project.resolve(file, function, written),
            Resolved::Class(c) if self.classes.contains(&c)
        )
    }

    /// Whether a binding's value is one of the classes itself (`partial = PartialMixin`).
    fn aliases(
        &self,
        project: &Project,
        file: FileId,
        function: Option<u32>,
        value: &Value,
    ) -> bool {
        let Value::Alias(path) = value else {
            return false;
        };
        let Root::Global(name) = &path.root else {
            return false;
        };
        let mut written = name.to_string();
        for a in &path.attrs {
            written.push('.');
            written.push_str(a.as_str());
        }
        let last = written.rsplit('.').next().unwrap_or_default();
        self.names.contains(last) && self.is_one(project, file, function, &written)
    }

    /// Whether `local`, bound in `function` of `file` to the new instance made by the call at
    /// `made` (its one binding there), is given its own `attr` before anything else may see it
    /// (see [`InstanceAssignments::bound_at_every_construction`]).
    fn bound_before_handed_on(
        &self,
        project: &Project,
        file: FileId,
        function: u32,
        local: &Name,
        made: u32,
        attr: &str,
    ) -> bool {
        let facts = &project.file(file).facts;
        let bound_once = facts.functions[function as usize]
            .typed_locals
            .iter()
            .any(|t| t.name == *local && t.exact);
        let is_local = |root: &Root| matches!(root, Root::Local(name) if name == local);
        let Some(binding) = facts.attribute_assignments.iter().find(|a| {
            a.function == function
                && a.attr.as_str() == attr
                && a.span.start > made
                && a.object.attrs.is_empty()
                && is_local(&a.object.root)
                && !matches!(&a.value, Value::Alias(path)
                    if matches!(path.root, Root::SelfParam | Root::Class | Root::Global(_)))
                && facts.runs_on_every_call(a.span.start)
        }) else {
            return false;
        };
        let before = binding.span.start;
        let first_segment = |text: &str| text.split('.').next() == Some(local.as_str());
        // Another attribute of the new object assigned first: none that runs code.
        let quiet_stores = facts.attribute_assignments.iter().all(|a| {
            a.function != function
                || !is_local(&a.object.root)
                || a.span.start >= before
                || !self.classes.iter().any(|&c| {
                    project.lookup_method(c, &a.attr).is_some()
                        || super::data_descriptor_setter(project, c, &a.attr).is_some()
                })
        });
        let untouched = facts
            .mutations
            .iter()
            .all(|m| m.function != function || !is_local(&m.target.root) || m.span.start >= before);
        let no_method_called = facts.calls.iter().all(|call| {
            call.function() != Some(function)
                || call.span.start >= before
                || call.span.start <= made
                || call.receiver() != CallReceiver::Local
                || !first_segment(&call.callee)
        });
        // Handed to a call made before the binding, or to a name at all (positions of names'
        // bindings are not kept).
        let not_handed_on = facts.flows.iter().all(|flow| {
            if flow.function() != Some(function) {
                return true;
            }
            let FlowSource::Name { receiver, name } = flow.source() else {
                return true;
            };
            if receiver != CallReceiver::Local || !first_segment(&name) {
                return true;
            }
            match flow.target() {
                FlowTarget::Return => true,
                target => target
                    .argument()
                    .is_some_and(|(call, _)| facts.calls[call as usize].span.start >= before),
            }
        });
        let not_captured = !facts.captured.iter().any(|(_, name)| name == local);
        bound_once && quiet_stores && untouched && no_method_called && not_handed_on && not_captured
    }
}
