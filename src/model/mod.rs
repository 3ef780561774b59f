//! The model of shared objects: every object the program creates at a known place (an allocation
//! site), where it flows, and which changes reach it, with when each change happens.
//!
//! It sits between the project link and the rules. Objects are allocation sites with a lifetime
//! ([`Lifetime::Once`] for what module-level code, class bodies and default values create,
//! [`Lifetime::OnceAfterImport`] for what only a start-up hook or a first-time block runs);
//! flows are flow-insensitive copy constraints between [`Location`]s (module globals, class
//! attributes, instance fields by class and name, parameters, return values); changes are the
//! extractor's mutation events, attached to the objects their receiver may point to. Calls are
//! resolved through the same lookups the call graph uses; a call that cannot be resolved carries
//! nothing (precision first).

mod attributes;
mod cached;
mod class_changes;
mod construction;
mod dead_code;
mod defaults;
mod emptied;
mod fields;
mod globals;
mod instance_assignments;
mod instances;
mod local_changes;
mod lookup;
mod parameters;
mod project_tables;
mod query;
mod request_guards;
mod singletons;
mod thread_locals;
mod timing;

#[cfg(test)]
mod tests;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use std::collections::VecDeque;
use std::sync::OnceLock;

use crate::facts::{
    AccessPath, ArgPosition, Argument, CallReceiver, CallSite, ContainerKind, FlowSource, FuncIdx,
    FunctionKind, Name, ParamUseKind, Root, Span, Value,
};
use crate::project::{ClassId, FileId, FuncId, OnceCause, Project, Resolved};

pub use attributes::AttributeWrites;
pub use cached::{CachedResultChange, CachedResults, cache_decorator};
pub use class_changes::{ClassLevelChange, ClassPath, ClassReceiver, class_path};
pub use construction::{
    attribute_fails_for_good, default_attribute_literal, method_does_nothing_on,
};
pub use dead_code::never_runs;
pub use defaults::default_held_by_one_instance;
pub use emptied::{changed_only_while_true, keeps_empty, takes_entries_out};
pub use fields::{FieldChange, SelfWrites};
pub use globals::{GlobalId, GlobalWrite, GlobalWriteKind, binding_read_in};
pub use instance_assignments::{InstanceAssignment, InstanceAssignments, only_extended};
pub use instances::{InstanceChange, instance_receiver_classes};
pub use lookup::{
    BindingRef, binding_of_path, class_hierarchy, data_descriptor_setter, may_run_on_instances_of,
    mutable_type, project_mro, resolve_callee, typed_local,
};
pub use project_tables::ProjectTables;
pub use query::MethodCalls;
pub use request_guards::{guard_fails_on_every_request, skipped_on_every_request};
pub use singletons::{
    KeptSingletonCalls, Singleton, SingletonNames, SingletonWrite, SingletonWriteSite,
    imported_names, mentions_singleton, module_instance_class, singleton_names_key,
};
pub use thread_locals::{ThreadLocal, ThreadLocalWrite};
pub use timing::{runs_after_import, runs_per_call};

/// Index of an object in [`Model::objects`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);

/// How an object is created.
#[derive(Debug, Clone, PartialEq)]
pub enum Creation {
    /// A display or comprehension.
    Container(ContainerKind),
    /// A call, callee as written: `dict()`, `threading.local()`, `Runner()`.
    Call(Name),
}

/// Where an object is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The value of a module-level binding.
    ModuleGlobal,
    /// The value of a class-level binding.
    ClassAttribute(ClassId),
    /// The default value of parameter `index` of a function.
    Default(FuncId, u32),
    /// A `default=` keyword of a module- or class-level call (`ContextVar("v", default={})`).
    KeywordDefault,
    /// A local (or the `**kwargs` dict) of a function that runs only at import time and defines
    /// the functions that keep it: a decorator's `state = {}`, a factory's `**initkwargs`.
    ClosureLocal(FuncId),
    /// What a cached function (`lru_cache`, `cache`) returns: one object per arguments, handed
    /// to every caller (`Model::cached_results`).
    CachedResult(FuncId),
    /// A display or call stored on `self` by a method that never runs per call: the `__init__`
    /// of a class that only import-time code constructs (`self._headers = {...}` in the
    /// `__init__` of what a module-level `Client(...)` builds), or a start-up hook.
    ImportTimeField(FuncId),
}

/// How often an allocation site creates an object, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Once per process: while the module is imported or the class or function is defined.
    Once,
    /// Once per process, after import: in code that only a start-up hook or a first-time block
    /// runs (`if _enabled: return; _enabled = True; cache = Cache()`), as the cause says.
    OnceAfterImport(OnceCause),
    /// Again on every call of the enclosing function (a class or a default inside a function).
    PerCall,
}

impl Lifetime {
    /// Whether the site makes one object for the whole process.
    pub fn is_once(self) -> bool {
        !matches!(self, Lifetime::PerCall)
    }

    /// The lifetime of what the body of `function` (of `file`) creates: per call, once after
    /// import, or while modules are imported ([`runs_per_call`]'s answer, with its reason).
    pub fn of_body(project: &Project, file: FileId, function: FuncIdx) -> Lifetime {
        let id = project.function_id(file, function);
        match project.call_graph().once_cause(id) {
            Some(cause) => Lifetime::OnceAfterImport(cause),
            None if timing::runs_after_import(project, file, function) => Lifetime::PerCall,
            None => Lifetime::Once,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Object {
    pub file: FileId,
    /// The binding statement, or the parameter with its default.
    pub site: Span,
    pub creation: Creation,
    pub origin: Origin,
    pub lifetime: Lifetime,
    /// The class of the analysed tree whose instance the object is, when the callee names one.
    pub class: Option<ClassId>,
    /// The import path: `app.store._prefs`, `jobs.Runner.__init__.<default plugins>`.
    pub path: String,
    /// Where the object is first held, when anywhere a flow can start from.
    pub home: Option<Location>,
}

impl Object {
    /// The creating expression as the facts write it, for the rules' type questions.
    pub fn value(&self) -> Value {
        match &self.creation {
            Creation::Container(kind) => Value::Container(*kind),
            Creation::Call(callee) => Value::Call { callee: *callee },
        }
    }
}

/// A place that holds references to objects.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Location {
    /// A module global by file and name.
    Global(FileId, Name),
    /// A class-level attribute of exactly this class.
    ClassAttribute(ClassId, Name),
    /// An attribute of instances, stored by methods of this class (read through the hierarchy).
    Field(ClassId, Name),
    /// An attribute of one object whose class is not in the tree (`_local.prefs` of a
    /// `threading.local()`, `ns.items` of a `SimpleNamespace`).
    Attribute(ObjectId, Name),
    /// Parameter `index` of a function.
    Param(FuncId, u32),
    /// What a function returns.
    Return(FuncId),
    /// A local variable of a function that the functions defined inside it may keep.
    Local(FuncId, Name),
    /// The item under a string key of a dict display handed as parameter `index` of a function:
    /// `HTTPClient({"headers": h})` puts `h` there, `config["headers"]` in `__init__` reads it.
    Item(FuncId, u32, Name),
}

/// One copy constraint: whatever `from` may hold, `to` may hold; `span` is where it happens.
#[derive(Debug, Clone)]
pub struct Flow {
    pub from: Location,
    pub to: Location,
    pub file: FileId,
    pub span: Span,
}

/// The import path of `qualname` (a class, function or global), or of its `member`, defined in
/// `file`: `app.store.Runner.hooks`.
pub fn import_path(
    project: &Project,
    file: FileId,
    qualname: &str,
    member: Option<&str>,
) -> String {
    let module = &project.file(file).module;
    match member {
        Some(member) => format!("{module}.{qualname}.{member}"),
        None => format!("{module}.{qualname}"),
    }
}

/// When a change happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// On calls after import: a request may run it.
    PerCall,
    /// Only while modules are imported and classes created.
    ImportTime,
    /// Once after import: only a start-up hook or a first-time block's call reaches it.
    OnceAfterImport,
    /// Once at run time, behind a test that it has not happened yet.
    OnceAtRunTime,
}

impl Timing {
    /// Why the change counts as it does, for explanations.
    pub fn reason(self) -> &'static str {
        match self {
            Timing::PerCall => {
                "per call: the function is not known to run only while modules are imported or \
                 classes are created"
            }
            Timing::ImportTime => "only at import time: only import-time code reaches it",
            Timing::OnceAfterImport => {
                "once after import: only a start-up hook or a call in a first-time block reaches it"
            }
            Timing::OnceAtRunTime => {
                "once at run time: it is guarded by a test that it has not happened yet"
            }
        }
    }

    /// Whether the change happens before any request is served: while importing, or once after
    /// import (a start-up hook).
    pub fn before_requests(self) -> bool {
        matches!(self, Timing::ImportTime | Timing::OnceAfterImport)
    }
}

/// How a change's receiver reaches the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Through {
    SelfAttribute,
    Class,
    ModuleName,
    Parameter,
    /// A local whose class is known: `r = Runner(); r.plugins.append(p)`.
    Instance,
    CallResult,
    /// A free variable of a nested function: a local of the function around it.
    Closure,
}

/// Which fact a change is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeSite {
    /// Index in `FileFacts::mutations`.
    Mutation(u32),
    /// Index in `FileFacts::call_result_mutations`.
    CallResult(u32),
}

#[derive(Debug, Clone)]
pub struct Change {
    pub file: FileId,
    pub function: FuncIdx,
    pub span: Span,
    pub site: ChangeSite,
    /// Where the receiver is looked up.
    pub locations: Vec<Location>,
    pub objects: Vec<ObjectId>,
    pub through: Through,
    pub timing: Timing,
}

#[derive(Debug, Default)]
pub struct Model {
    objects: Vec<Object>,
    points_to: HashMap<Location, Vec<ObjectId>>,
    flows: Vec<Flow>,
    /// Indexes in `flows` by the location they leave.
    flows_from: HashMap<Location, Vec<u32>>,
    changes: Vec<Change>,
    /// Index in `changes` by file and start of the change.
    change_index: HashMap<(FileId, u32), u32>,
    /// Per file, the objects created there, by site start.
    by_file: Vec<Vec<ObjectId>>,
    /// Per file, parameters whose default names an object created elsewhere (`d=_CACHE`).
    alias_defaults: Vec<Vec<(Span, Location)>>,
    /// Writes that reach module globals, on first use (`Model::global_writes`).
    global_writes: OnceLock<Vec<GlobalWrite>>,
    /// Cached functions' results and their callers' changes, on first use.
    cached_results: OnceLock<CachedResults>,
    /// Changes of `self.<attr>` by attribute, on first use.
    field_changes: OnceLock<HashMap<Name, Vec<FieldChange>>>,
    /// Writes of `threading.local()` objects' attributes, on first use.
    thread_local_writes: OnceLock<Vec<ThreadLocalWrite>>,
    /// Changes whose receiver is an instance of known classes, on first use.
    instance_changes: OnceLock<Vec<InstanceChange>>,
    /// Changes through instances or classes that may reach class-level attributes, on first use.
    class_level_changes: OnceLock<Vec<ClassLevelChange>>,
    /// Changes of parameters in their function's body, by function and position, on first use.
    parameter_changes: OnceLock<HashMap<(FuncId, u32), Vec<u32>>>,
    /// Attribute names written, by kind of write, on first use.
    attribute_writes: OnceLock<AttributeWrites>,
    /// The first in-place change of a local, by file and function, on first use.
    first_local_changes: OnceLock<HashMap<(FileId, FuncIdx), u32>>,
    /// Module-level instances of classes of the tree, on first use.
    singletons: OnceLock<Vec<Singleton>>,
    /// Writes through a module name that reach those instances, on first use.
    singleton_writes: OnceLock<Vec<SingletonWrite>>,
    /// Writes of `self.<attr>` by the method they are in, on first use.
    self_writes: OnceLock<HashMap<FuncId, SelfWrites>>,
    /// Where classes give their instances their own attributes, on first use.
    instance_assignments: OnceLock<InstanceAssignments>,
}

/// Passes over the flows before the fixpoint is given up (flows are copies, so a chain longer
/// than this is a cycle or generated code).
const MAX_PASSES: usize = 32;

impl Model {
    pub fn build(project: &Project) -> Model {
        let mut model = Model {
            by_file: vec![Vec::new(); project.files.len()],
            alias_defaults: vec![Vec::new(); project.files.len()],
            ..Model::default()
        };
        for file in 0..project.files.len() as FileId {
            model.add_objects(project, file);
        }
        // Flows and changes read the model and write nothing into it until each stage ends, so
        // files are done in parallel and their results added in file order.
        let flows: Vec<FileFlows> = (0..project.files.len() as FileId)
            .into_par_iter()
            .map(|file| model.file_flows(project, file))
            .collect();
        for (file, flows) in flows.into_iter().enumerate() {
            model.flows.extend(flows.flows);
            model.alias_defaults[file] = flows.alias_defaults;
        }
        model.solve();
        let changes: Vec<Vec<Change>> = (0..project.files.len() as FileId)
            .into_par_iter()
            .map(|file| model.file_changes(project, file))
            .collect();
        model.changes = changes.into_iter().flatten().collect();
        for (i, flow) in model.flows.iter().enumerate() {
            model
                .flows_from
                .entry(flow.from.clone())
                .or_default()
                .push(i as u32);
        }
        for (i, change) in model.changes.iter().enumerate() {
            model
                .change_index
                .entry((change.file, change.span.start))
                .or_insert(i as u32);
        }
        for objects in &mut model.by_file {
            objects.sort_by_key(|id| model.objects[id.0 as usize].site.start);
        }
        model
    }

    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    pub fn object(&self, id: ObjectId) -> &Object {
        &self.objects[id.0 as usize]
    }

    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// The flows that copy what `location` holds somewhere else.
    pub fn flows_leaving(&self, location: &Location) -> impl Iterator<Item = &Flow> {
        self.flows_from
            .get(location)
            .into_iter()
            .flatten()
            .map(|&i| &self.flows[i as usize])
    }

    /// The objects `location` may hold.
    pub fn points_to(&self, location: &Location) -> &[ObjectId] {
        self.points_to.get(location).map_or(&[], Vec::as_slice)
    }

    /// The innermost object created at a site that contains `span` of `file`, or the one object
    /// a default there names (`def f(d=_CACHE)`).
    pub fn object_defined_at(&self, file: FileId, span: Span) -> Option<&Object> {
        let contains = |site: Span| site.start <= span.start && span.end <= site.end;
        // Sites are syntax nodes, nested or apart, and sorted by start: going back from the last
        // that starts by `span`, the first one around it is the innermost, unless another of the
        // same start is shorter; one starting earlier would hold it. Equal sites: the first wins.
        let objects = self.by_file.get(file as usize)?;
        let end = objects.partition_point(|id| self.object(*id).site.start <= span.start);
        let mut created: Option<&Object> = None;
        for object in objects[..end].iter().rev().map(|id| self.object(*id)) {
            if let Some(best) = created
                && object.site.start < best.site.start
            {
                break;
            }
            if contains(object.site)
                && created.is_none_or(|best| {
                    object.site.end - object.site.start <= best.site.end - best.site.start
                })
            {
                created = Some(object);
            }
        }
        created.or_else(|| {
            let (_, location) = self.alias_defaults[file as usize]
                .iter()
                .find(|(site, _)| contains(*site))?;
            match self.points_to(location) {
                [one] => Some(self.object(*one)),
                _ => None,
            }
        })
    }

    /// The change recorded at `span` of `file`.
    pub fn change_at(&self, file: FileId, span: Span) -> Option<&Change> {
        let index = *self.change_index.get(&(file, span.start))?;
        Some(&self.changes[index as usize])
    }

    /// What a location is, for explanations: `` `self.plugins` of `Runner` instances ``.
    pub fn describe(&self, project: &Project, location: &Location) -> String {
        let class_name = |c: &ClassId| project.class(*c).1.qualname.to_string();
        match location {
            Location::Global(file, name) => format!("`{}.{name}`", project.file(*file).module),
            Location::ClassAttribute(class, name) => {
                format!("the class attribute `{}.{name}`", class_name(class))
            }
            Location::Field(class, name) => {
                format!("`self.{name}` of `{}` instances", class_name(class))
            }
            Location::Attribute(object, name) => {
                format!("the attribute `{name}` of `{}`", self.object(*object).path)
            }
            Location::Param(function, index) => {
                let facts = project.function(*function).1;
                let param = facts
                    .params
                    .get(*index as usize)
                    .map_or("?", |p| p.name.as_str());
                format!("the parameter `{param}` of `{}`", facts.qualname)
            }
            Location::Return(function) => {
                format!("the result of `{}`", project.function(*function).1.qualname)
            }
            Location::Local(function, name) => {
                let qualname = &project.function(*function).1.qualname;
                format!("the local `{name}` of `{qualname}`, kept by its closures")
            }
            Location::Item(function, index, key) => {
                let facts = project.function(*function).1;
                let param = facts
                    .params
                    .get(*index as usize)
                    .map_or("?", |p| p.name.as_str());
                format!(
                    "the item `{key}` of the parameter `{param}` of `{}`",
                    facts.qualname
                )
            }
        }
    }

    /// A shortest chain of flows that carries `object` from where it is created to one of
    /// `targets`; empty when it is created there.
    pub fn flow_path(&self, object: ObjectId, targets: &[Location]) -> Vec<&Flow> {
        let Some(start) = &self.object(object).home else {
            return Vec::new();
        };
        if targets.contains(start) {
            return Vec::new();
        }
        let mut previous: HashMap<&Location, usize> = HashMap::default();
        let mut queue = VecDeque::from([start]);
        while let Some(location) = queue.pop_front() {
            for &i in self.flows_from.get(location).map_or(&[][..], Vec::as_slice) {
                let i = i as usize;
                let to = &self.flows[i].to;
                if to == start || previous.contains_key(to) || !self.points_to(to).contains(&object)
                {
                    continue;
                }
                previous.insert(to, i);
                if targets.contains(to) {
                    let mut path = vec![&self.flows[i]];
                    let mut at = &self.flows[i].from;
                    while let Some(&j) = previous.get(at) {
                        path.push(&self.flows[j]);
                        at = &self.flows[j].from;
                    }
                    path.reverse();
                    return path;
                }
                queue.push_back(to);
            }
        }
        Vec::new()
    }

    fn new_object(&mut self, object: Object) {
        let id = ObjectId(self.objects.len() as u32);
        self.by_file[object.file as usize].push(id);
        if let Some(home) = &object.home {
            self.points_to.entry(home.clone()).or_default().push(id);
        }
        self.objects.push(object);
    }

    fn add_objects(&mut self, project: &Project, file: FileId) {
        let facts = &project.file(file).facts;
        // What every allocation site shares: where it is, what it creates, and the class of the
        // tree the object is an instance of.
        let at = |site: Span,
                  creation: Creation,
                  origin: Origin,
                  lifetime: Lifetime,
                  path: String,
                  home: Option<Location>| Object {
            file,
            site,
            class: instance_class(project, file, &creation),
            creation,
            origin,
            lifetime,
            path,
            home,
        };
        let once_unless = |per_call: bool| {
            if per_call {
                Lifetime::PerCall
            } else {
                Lifetime::Once
            }
        };
        for binding in &facts.globals {
            if let Some(creation) = creation(&binding.value) {
                let path = import_path(project, file, &binding.name, None);
                let home = Some(Location::Global(file, binding.name));
                let origin = Origin::ModuleGlobal;
                let once = Lifetime::Once;
                self.new_object(at(binding.span, creation, origin, once, path, home));
            }
        }
        for (index, class) in facts.classes.iter().enumerate() {
            let id = project.class_id(file, index as u32);
            for binding in &class.bindings {
                if let Some(creation) = creation(&binding.value) {
                    let path = import_path(project, file, &class.qualname, Some(&binding.name));
                    let origin = Origin::ClassAttribute(id);
                    let home = Some(Location::ClassAttribute(id, binding.name));
                    let lifetime = once_unless(class.in_function);
                    self.new_object(at(binding.span, creation, origin, lifetime, path, home));
                }
            }
        }
        for (index, function) in facts.functions.iter().enumerate() {
            let id = project.function_id(file, index as u32);
            for (position, param) in function.params.iter().enumerate() {
                let Some(creation) = param.default.as_ref().and_then(creation) else {
                    continue;
                };
                let member = format!("<default {}>", param.name);
                let path = import_path(project, file, &function.qualname, Some(&member));
                let origin = Origin::Default(id, position as u32);
                let home = Some(Location::Param(id, position as u32));
                let lifetime = once_unless(function.parent.is_some());
                self.new_object(at(param.span, creation, origin, lifetime, path, home));
            }
        }
        // What a function that runs only at import time creates is created once; the functions
        // it defines (a decorator's wrapper, a factory's view) keep it in their closure.
        for local in &facts.closure_locals {
            let lifetime = Lifetime::of_body(project, file, local.function);
            if lifetime == Lifetime::PerCall {
                continue;
            }
            let Some(creation) = creation(&local.value) else {
                continue;
            };
            let function = project.function_id(file, local.function);
            let qualname = &facts.functions[local.function as usize].qualname;
            let member = format!("<local {}>", local.name);
            let path = import_path(project, file, qualname, Some(&member));
            let home = Some(match local.param {
                Some(index) => Location::Param(function, index),
                None => Location::Local(function, local.name),
            });
            let origin = Origin::ClosureLocal(function);
            self.new_object(at(local.span, creation, origin, lifetime, path, home));
        }
        // What a method that never runs per call stores on `self` is created once: every
        // instance whose attribute holds it is built while importing (or at start-up).
        for assignment in &facts.attribute_assignments {
            if assignment.object != AccessPath::new(Root::SelfParam) {
                continue;
            }
            let Some(creation) = creation(&assignment.value) else {
                continue;
            };
            let Some(class) = project.method_class(file, assignment.function) else {
                continue;
            };
            let lifetime = Lifetime::of_body(project, file, assignment.function);
            if lifetime == Lifetime::PerCall
                || facts.functions[assignment.function as usize]
                    .parent
                    .is_some()
            {
                continue;
            }
            let function = project.function_id(file, assignment.function);
            let qualname = &facts.functions[assignment.function as usize].qualname;
            let member = format!("<self.{}>", assignment.attr);
            let path = import_path(project, file, qualname, Some(&member));
            let home = Some(Location::Field(class, assignment.attr));
            let origin = Origin::ImportTimeField(function);
            self.new_object(at(assignment.span, creation, origin, lifetime, path, home));
        }
        for default in &facts.keyword_defaults {
            let Some(creation) = creation(&default.default) else {
                continue;
            };
            let owner = match default.class {
                Some(c) => format!("{}.{}", facts.classes[c as usize].qualname, default.name),
                None => default.name.to_string(),
            };
            let path = import_path(project, file, &owner, Some("<default>"));
            let origin = Origin::KeywordDefault;
            let once = Lifetime::Once;
            self.new_object(at(default.span, creation, origin, once, path, None));
        }
    }

    /// The flows of one file's facts, and its parameters whose default names an object created
    /// elsewhere.
    /// A module global or a parameter handed as an argument, by code that runs per call, to a
    /// function of the tree: `client.call(headers=TRACE_HEADERS)` lets `call`'s `headers` hold the
    /// global's object, and `self._prepare(headers)` in `call` hands it on. Calls at import time
    /// are left out: one handing a registry to `register(...)` while the module loads says
    /// nothing of what that parameter holds on the calls requests make.
    fn add_argument_flows(&self, project: &Project, file: FileId, out: &mut FileFlows) {
        let facts = &project.file(file).facts;
        let mut resolved: HashMap<u32, Option<(FuncId, bool)>> = HashMap::default();
        // What a name handed on or called denotes depends on the function only through imports
        // made in functions; a name whose head no such import binds is looked up once per file.
        let mut globals: HashMap<(Option<FuncIdx>, Name), Option<Vec<Location>>> =
            HashMap::default();
        // So does what a plain name called runs (`helper(x)`, `Service(x)`, `len(x)`).
        let mut named_callees: HashMap<Name, Option<(FuncId, bool)>> = HashMap::default();
        // Whether each function runs per call (a call in a lazy init never does).
        let mut per_call: HashMap<FuncIdx, bool> = HashMap::default();
        for flow in &facts.flows {
            let (
                Some(function),
                FlowSource::Name {
                    receiver: receiver @ (CallReceiver::Name | CallReceiver::Local),
                    name,
                },
            ) = (flow.function(), &flow.source())
            else {
                continue;
            };
            let Some((call, position)) = flow.target().argument() else {
                continue;
            };
            let from = if *receiver == CallReceiver::Name {
                let head = name.split('.').next().unwrap_or_default();
                let scope = project
                    .imported_in_a_function(file, head)
                    .then_some(function);
                let from = globals
                    .entry((scope, *name))
                    .or_insert_with(|| self.global_handed_on(project, file, function, name));
                match from {
                    Some(from) => from.clone(),
                    None => continue,
                }
            } else {
                // Only a parameter itself is followed among the names a function binds (an
                // attribute of one is a field, never the parameter; cheap to ask first: most
                // arguments are locals handed to calls outside the tree).
                if name.contains('.') || !is_parameter_in_scope(facts, function, *name) {
                    continue;
                }
                let path = AccessPath::new(Root::Local(*name));
                let from = self.locations(project, file, Some(function), &path, false);
                if !from.iter().any(|l| matches!(l, Location::Param(..))) {
                    continue;
                }
                from
            };
            let site = &facts.calls[call as usize];
            let callee = *resolved.entry(call).or_insert_with(|| {
                let plain = !site.reference()
                    && site.receiver() == CallReceiver::Name
                    && !site.callee.contains('.')
                    && !project.imported_in_a_function(file, &site.callee);
                if plain {
                    *named_callees
                        .entry(site.callee)
                        .or_insert_with(|| self.argument_callee(project, file, function, site))
                } else {
                    self.argument_callee(project, file, function, site)
                }
            });
            let Some((callee, binds)) = callee else {
                continue;
            };
            if facts.lazy_inits.contains(&site.span.start)
                || !*per_call.entry(function).or_insert_with(|| {
                    timing(project, file, function, site.span) == Timing::PerCall
                })
            {
                continue;
            }
            let params = &project.function(callee).1.params;
            let index = match position {
                ArgPosition::Index(i) => Some(i as usize + usize::from(binds)),
                ArgPosition::Keyword(keyword) => params.iter().position(|p| p.name == keyword),
            };
            if let Some(index) = index.filter(|i| *i < params.len()) {
                let to = vec![Location::Param(callee, index as u32)];
                out.flow(from, to, file, site.span);
            }
        }
    }

    /// The locations of the module-level `name` (dotted) handed on as an argument in `function`,
    /// when one is a global holding an object of the model (objects are placed before the flows
    /// are made); `None` when none is.
    fn global_handed_on(
        &self,
        project: &Project,
        file: FileId,
        function: FuncIdx,
        name: &Name,
    ) -> Option<Vec<Location>> {
        let mut parts = name.split('.');
        let head: Name = parts.next().unwrap_or_default().into();
        let mut path = AccessPath::new(Root::Global(head));
        for part in parts {
            path = path.with_attr(part);
        }
        let from = self.locations(project, file, Some(function), &path, false);
        from.iter()
            .any(|l| matches!(l, Location::Global(..)) && self.points_to.contains_key(l))
            .then_some(from)
    }

    /// The function of the tree that call `site` runs, with whether it binds its first parameter:
    /// a method found through `self` or the class, what `resolve_callee` finds for a name, else a
    /// method of the tree's class whose module-level instance the receiver names (`client.call`
    /// after `client = HttpClient()`).
    fn argument_callee(
        &self,
        project: &Project,
        file: FileId,
        function: FuncIdx,
        site: &CallSite,
    ) -> Option<(FuncId, bool)> {
        if site.reference() {
            return None;
        }
        if matches!(
            site.receiver(),
            CallReceiver::SelfParam | CallReceiver::Class
        ) {
            let class = project.method_class(file, function)?;
            let found = project.lookup_method(class, &site.callee)?;
            // `cls.m(x)` binds the class only to a classmethod.
            let binds = match project.function(found).1.kind {
                FunctionKind::ClassMethod => true,
                FunctionKind::Instance => site.receiver() == CallReceiver::SelfParam,
                _ => false,
            };
            return Some((found, binds));
        }
        if site.receiver() != CallReceiver::Name {
            return None;
        }
        if let Some(found) = resolve_callee(project, file, function, &site.callee) {
            return Some(found);
        }
        let (owner, method) = site.callee.rsplit_once('.')?;
        let owner = AccessPath::new(Root::Global(owner.into()));
        let locations = self.locations(project, file, Some(function), &owner, false);
        let mut classes = self
            .objects_of(&locations)
            .into_iter()
            .filter_map(|o| self.object(o).class);
        let class = classes.next()?;
        if classes.any(|other| other != class) {
            return None;
        }
        let found = project.lookup_method(class, method)?;
        let binds = project.function(found).1.kind == FunctionKind::Instance;
        Some((found, binds))
    }

    fn file_flows(&self, project: &Project, file: FileId) -> FileFlows {
        let mut flows = FileFlows::default();
        self.add_flows(project, file, &mut flows);
        flows
    }
}

/// What one file adds to the model's flows (see [`Model::file_flows`]).
#[derive(Default)]
struct FileFlows {
    flows: Vec<Flow>,
    alias_defaults: Vec<(Span, Location)>,
}

impl FileFlows {
    fn flow(&mut self, from: Vec<Location>, to: Vec<Location>, file: FileId, span: Span) {
        for source in &from {
            for target in &to {
                if source != target {
                    self.flows.push(Flow {
                        from: source.clone(),
                        to: target.clone(),
                        file,
                        span,
                    });
                }
            }
        }
    }
}

impl Model {
    fn add_flows(&self, project: &Project, file: FileId, out: &mut FileFlows) {
        let facts = &project.file(file).facts;
        for binding in &facts.globals {
            let target = vec![Location::Global(file, binding.name)];
            match &binding.value {
                Value::Alias(path) => {
                    let from = self.locations(project, file, None, path, false);
                    out.flow(from, target, file, binding.span);
                }
                Value::Call { callee } => {
                    // A factory of the tree called at import time: what it returns is bound.
                    if let Resolved::Function(function) = project.resolve(file, None, callee) {
                        out.flow(vec![Location::Return(function)], target, file, binding.span);
                    }
                }
                _ => {}
            }
        }
        for (index, class) in facts.classes.iter().enumerate() {
            let id = project.class_id(file, index as u32);
            for binding in &class.bindings {
                if let Value::Alias(path) = &binding.value {
                    let from = self.locations(project, file, None, path, false);
                    let target = vec![Location::ClassAttribute(id, binding.name)];
                    out.flow(from, target, file, binding.span);
                }
            }
        }
        for (index, function) in facts.functions.iter().enumerate() {
            let id = project.function_id(file, index as u32);
            for (position, param) in function.params.iter().enumerate() {
                if let Some(Value::Alias(path)) = &param.default {
                    out.alias_defaults
                        .push((param.span, Location::Param(id, position as u32)));
                    let from = self.locations(project, file, function.parent, path, false);
                    out.flow(
                        from,
                        vec![Location::Param(id, position as u32)],
                        file,
                        param.span,
                    );
                }
            }
            for name in &function.returned_names {
                if function.params.iter().any(|p| p.name == *name) {
                    continue;
                }
                if let Resolved::Global(global_file, global) =
                    project.resolve(file, Some(index as FuncIdx), name)
                {
                    let global = project.file(global_file).facts.globals[global as usize].name;
                    out.flow(
                        vec![Location::Global(global_file, global)],
                        vec![Location::Return(id)],
                        file,
                        function.span,
                    );
                }
            }
        }
        for assignment in &facts.attribute_assignments {
            let from = match &assignment.value {
                Value::Alias(value) => {
                    self.locations(project, file, Some(assignment.function), value, false)
                }
                // What a function of the tree returns: `_local.prefs = Prefs().defaults()`.
                Value::Call { callee } => {
                    match resolve_callee(project, file, assignment.function, callee) {
                        Some((function, _)) => vec![Location::Return(function)],
                        None => continue,
                    }
                }
                _ => continue,
            };
            let target_path = assignment.object.clone().with_attr(&assignment.attr);
            let to = self.locations(project, file, Some(assignment.function), &target_path, true);
            out.flow(from, to, file, assignment.span);
        }
        self.add_argument_flows(project, file, out);
        // Items of dict displays into the parameters they are handed to, and out again where
        // `self.x = param["key"]` reads one.
        for item in &facts.item_arguments {
            let Some((callee, binds)) = resolve_callee(project, file, item.function, &item.callee)
            else {
                continue;
            };
            let params = &project.function(callee).1.params;
            let index = match &item.argument {
                Argument::Position(i) => Some(*i as usize + usize::from(binds)),
                Argument::Keyword(name) => params.iter().position(|p| p.name == *name),
            };
            let Some(index) = index.filter(|i| *i < params.len()) else {
                continue;
            };
            let from = self.locations(project, file, Some(item.function), &item.value, false);
            let to = vec![Location::Item(callee, index as u32, item.key)];
            out.flow(from, to, file, item.span);
        }
        for read in &facts.item_reads {
            let assignment = &facts.attribute_assignments[read.assignment as usize];
            let function = Some(assignment.function);
            let from: Vec<Location> = self
                .locations(project, file, function, &read.source, false)
                .into_iter()
                .filter_map(|l| match l {
                    Location::Param(f, i) => Some(Location::Item(f, i, read.key)),
                    _ => None,
                })
                .collect();
            let target_path = assignment.object.clone().with_attr(&assignment.attr);
            let to = self.locations(project, file, function, &target_path, true);
            out.flow(from, to, file, assignment.span);
        }
        for param_use in &facts.param_uses {
            let from = vec![Location::Param(
                project.function_id(file, param_use.function),
                param_use.param,
            )];
            match &param_use.kind {
                ParamUseKind::Returned => {
                    let to = vec![Location::Return(
                        project.function_id(file, param_use.function),
                    )];
                    out.flow(from, to, file, param_use.span);
                }
                ParamUseKind::Passed { callee, argument } => {
                    let Some((callee, binds)) =
                        resolve_callee(project, file, param_use.function, callee)
                    else {
                        continue;
                    };
                    let params = &project.function(callee).1.params;
                    let index = match argument {
                        Argument::Position(i) => Some(*i as usize + usize::from(binds)),
                        Argument::Keyword(name) => params.iter().position(|p| p.name == *name),
                    };
                    if let Some(index) = index.filter(|i| *i < params.len()) {
                        let to = vec![Location::Param(callee, index as u32)];
                        out.flow(from, to, file, param_use.span);
                    }
                }
                _ => {}
            }
        }
    }

    /// Propagates objects along the flows until nothing changes, or for `MAX_PASSES` passes over
    /// the flows in order, each flow copying what its source holds at that moment. A flow whose
    /// source has not grown since it last copied it is passed over: its target only grows, so it
    /// already holds all of it, and the copy would add nothing. Locations are numbered for the
    /// passes, so a copy is an index and a merge rather than a lookup and a clone of the set.
    #[inline(never)]
    fn solve(&mut self) {
        let mut ids: HashMap<&Location, u32> = HashMap::default();
        let mut locations: Vec<&Location> = Vec::new();
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(self.flows.len());
        for flow in &self.flows {
            let [from, to] = [&flow.from, &flow.to].map(|location| {
                *ids.entry(location).or_insert_with(|| {
                    locations.push(location);
                    locations.len() as u32 - 1
                })
            });
            edges.push((from, to));
        }
        let mut sets: Vec<Vec<ObjectId>> = locations
            .iter()
            .map(|l| self.points_to.get(*l).cloned().unwrap_or_default())
            .collect();
        // How many times each set has grown, and what its count was when each flow last copied it.
        let mut grown: Vec<u32> = vec![0; sets.len()];
        let mut copied: Vec<Option<u32>> = vec![None; edges.len()];
        for _ in 0..MAX_PASSES {
            let mut changed = false;
            for (flow, &(from, to)) in edges.iter().enumerate() {
                let (from, to) = (from as usize, to as usize);
                if sets[from].is_empty() || copied[flow] == Some(grown[from]) {
                    continue;
                }
                copied[flow] = Some(grown[from]);
                if from == to {
                    continue;
                }
                if merge_into(&mut sets, from, to) {
                    grown[to] += 1;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let solved: Vec<(Location, Vec<ObjectId>)> = locations
            .into_iter()
            .zip(sets)
            .filter(|(_, set)| !set.is_empty())
            .map(|(location, set)| (location.clone(), set))
            .collect();
        self.points_to.extend(solved);
    }

    /// The changes one file's facts make of objects of the model.
    fn file_changes(&self, project: &Project, file: FileId) -> Vec<Change> {
        let facts = &project.file(file).facts;
        let mut changes = Vec::new();
        for (index, mutation) in facts.mutations.iter().enumerate() {
            // A change in a branch no call runs changes nothing.
            if never_runs(project, file, mutation.span.start) {
                continue;
            }
            let locations = self.locations(
                project,
                file,
                Some(mutation.function),
                &mutation.target,
                false,
            );
            let objects = self.objects_of(&locations);
            if objects.is_empty() {
                continue;
            }
            let through = match &mutation.target.root {
                Root::SelfParam => Through::SelfAttribute,
                Root::Class => Through::Class,
                Root::Global(_) => Through::ModuleName,
                Root::Local(_) if matches!(locations.first(), Some(Location::Param(..))) => {
                    Through::Parameter
                }
                Root::Local(_) if matches!(locations.first(), Some(Location::Local(..))) => {
                    Through::Closure
                }
                Root::Local(_) => Through::Instance,
            };
            changes.push(Change {
                file,
                function: mutation.function,
                span: mutation.span,
                site: ChangeSite::Mutation(index as u32),
                locations,
                objects,
                through,
                timing: timing(project, file, mutation.function, mutation.span),
            });
        }
        for (index, mutation) in facts.call_result_mutations.iter().enumerate() {
            let Some((callee, _)) =
                resolve_callee(project, file, mutation.function, &mutation.callee)
            else {
                continue;
            };
            let locations = vec![Location::Return(callee)];
            let objects = self.objects_of(&locations);
            if objects.is_empty() {
                continue;
            }
            changes.push(Change {
                file,
                function: mutation.function,
                span: mutation.span,
                site: ChangeSite::CallResult(index as u32),
                locations,
                objects,
                through: Through::CallResult,
                timing: timing(project, file, mutation.function, mutation.span),
            });
        }
        changes
    }

    fn objects_of(&self, locations: &[Location]) -> Vec<ObjectId> {
        let mut objects: Vec<ObjectId> = locations
            .iter()
            .flat_map(|l| self.points_to(l).iter().copied())
            .collect();
        objects.sort_unstable();
        objects.dedup();
        objects
    }

    /// The locations an access path written in `function` of `file` (module scope when `None`)
    /// denotes. `store` asks where an assignment to it goes: into the field of the method's own
    /// class, rather than every field an instance of the hierarchy may read.
    fn locations(
        &self,
        project: &Project,
        file: FileId,
        function: Option<FuncIdx>,
        path: &AccessPath,
        store: bool,
    ) -> Vec<Location> {
        let (mut locations, consumed) = self.root_locations(project, file, function, path, store);
        // Further attributes are fields of the objects held so far, when their class is known.
        for attr in &path.attrs[consumed.min(path.attrs.len())..] {
            let mut next = Vec::new();
            for location in &locations {
                for object in self.points_to(location) {
                    match self.object(*object).class {
                        Some(class) => {
                            for c in project_mro(project, class) {
                                next.push(Location::Field(c, *attr));
                                next.push(Location::ClassAttribute(c, *attr));
                            }
                        }
                        None => next.push(Location::Attribute(*object, *attr)),
                    }
                }
            }
            next.sort_unstable();
            next.dedup();
            locations = next;
        }
        locations
    }

    /// The locations the root of `path` and its first attributes denote, and how many attributes
    /// that took.
    fn root_locations(
        &self,
        project: &Project,
        file: FileId,
        function: Option<FuncIdx>,
        path: &AccessPath,
        store: bool,
    ) -> (Vec<Location>, usize) {
        let first = path.attrs.first();
        match (&path.root, function) {
            (Root::SelfParam | Root::Class, Some(function)) => {
                let (Some(attr), Some(class)) = (first, project.method_class(file, function))
                else {
                    return (Vec::new(), 0);
                };
                let through_self = path.root == Root::SelfParam;
                let locations = match (through_self, store) {
                    (true, true) => vec![Location::Field(class, *attr)],
                    (true, false) => instance_attribute(project, class, attr, false),
                    (false, true) => vec![Location::ClassAttribute(class, *attr)],
                    (false, false) => class_hierarchy(project, class)
                        .into_iter()
                        .map(|c| Location::ClassAttribute(c, *attr))
                        .collect(),
                };
                (locations, 1)
            }
            (Root::Local(name), Some(function)) => {
                let file_facts = &project.file(file).facts;
                let functions = &file_facts.functions;
                // A local of a function around this one counts only where this one uses it free.
                let captured = file_facts
                    .captured
                    .iter()
                    .any(|(f, n)| *f == function && n == name);
                let mut current = Some(function);
                while let Some(f) = current {
                    let facts = &functions[f as usize];
                    if let Some(index) = facts.params.iter().position(|p| p.name == *name) {
                        let param = Location::Param(project.function_id(file, f), index as u32);
                        return (vec![param], 0);
                    }
                    let local = Location::Local(project.function_id(file, f), *name);
                    if (f == function || captured) && self.points_to.contains_key(&local) {
                        return (vec![local], 0);
                    }
                    current = facts.parent;
                }
                let Some(attr) = first else {
                    return (Vec::new(), 0);
                };
                let Some(local) = typed_local(project, file, function, name) else {
                    return (Vec::new(), 0);
                };
                let Resolved::Class(class) = project.resolve(file, Some(function), &local.class)
                else {
                    return (Vec::new(), 0);
                };
                (instance_attribute(project, class, attr, local.exact), 1)
            }
            (Root::Global(name), _) => {
                self.global_locations(project, file, function, name, &path.attrs)
            }
            _ => (Vec::new(), 0),
        }
    }

    /// `NAME`, `module.NAME`, `Class.attr`, `module.Class.attr`.
    fn global_locations(
        &self,
        project: &Project,
        file: FileId,
        function: Option<FuncIdx>,
        name: &str,
        attrs: &[Name],
    ) -> (Vec<Location>, usize) {
        let mut dotted = name.to_string();
        let mut consumed = 0;
        loop {
            match project.resolve(file, function, &dotted) {
                Resolved::Module(_) if consumed < attrs.len() => {
                    dotted.push('.');
                    dotted.push_str(&attrs[consumed]);
                    consumed += 1;
                }
                Resolved::Global(global_file, index) => {
                    let global = &project.file(global_file).facts.globals[index as usize];
                    return (vec![Location::Global(global_file, global.name)], consumed);
                }
                Resolved::Class(class) if consumed < attrs.len() => {
                    let attr = &attrs[consumed];
                    let locations = project
                        .lookup_class_attribute(class, attr)
                        .map(|(defining, _)| Location::ClassAttribute(defining, *attr))
                        .into_iter()
                        .collect();
                    return (locations, consumed + 1);
                }
                _ => return (Vec::new(), attrs.len() + 1),
            }
        }
    }
}

/// Whether `name` is a parameter of `function` or of a function around it.
fn is_parameter_in_scope(facts: &crate::facts::FileFacts, function: FuncIdx, name: Name) -> bool {
    let mut current = Some(function);
    while let Some(f) = current {
        let facts_of = &facts.functions[f as usize];
        if facts_of.params.iter().any(|p| p.name == name) {
            return true;
        }
        current = facts_of.parent;
    }
    false
}

/// What an instance of `class` (or of a subclass, unless `exact`) may hold in attribute `attr`:
/// fields any class of its hierarchy stores, and the class-level attributes it inherits.
fn instance_attribute(
    project: &Project,
    class: ClassId,
    attr: &Name,
    exact: bool,
) -> Vec<Location> {
    let classes = if exact {
        project_mro(project, class).collect()
    } else {
        class_hierarchy(project, class)
    };
    let mut locations: Vec<Location> = classes
        .into_iter()
        .flat_map(|c| {
            [
                Location::Field(c, *attr),
                Location::ClassAttribute(c, *attr),
            ]
        })
        .collect();
    locations.sort_unstable();
    locations
}

fn creation(value: &Value) -> Option<Creation> {
    match value {
        Value::Container(kind) => Some(Creation::Container(*kind)),
        Value::Call { callee } => Some(Creation::Call(*callee)),
        _ => None,
    }
}

fn instance_class(project: &Project, file: FileId, creation: &Creation) -> Option<ClassId> {
    match creation {
        Creation::Call(callee) => class_called(project, file, callee),
        Creation::Container(_) => None,
    }
}

/// The class of the tree that a module- or class-level call of `callee` in `file` instantiates.
fn class_called(project: &Project, file: FileId, callee: &str) -> Option<ClassId> {
    match project.resolve(file, None, callee) {
        Resolved::Class(class) => Some(class),
        _ => None,
    }
}

/// When a change at `span` in `function` of `file` happens.
fn timing(project: &Project, file: FileId, function: FuncIdx, span: Span) -> Timing {
    if project.file(file).facts.lazy_inits.contains(&span.start) {
        Timing::OnceAtRunTime
    } else if runs_per_call(project, file, function) {
        Timing::PerCall
    } else if runs_after_import(project, file, function) {
        Timing::OnceAfterImport
    } else {
        Timing::ImportTime
    }
}

/// Adds the objects of `sets[from]` to `sets[to]` (both sorted, without repeats; `from` is not
/// `to`); whether any was new.
fn merge_into(sets: &mut [Vec<ObjectId>], from: usize, to: usize) -> bool {
    let (source, target) = if from < to {
        let (low, high) = sets.split_at_mut(to);
        (&low[from], &mut high[0])
    } else {
        let (low, high) = sets.split_at_mut(from);
        (&high[0], &mut low[to])
    };
    let mut added = false;
    for object in source {
        if let Err(at) = target.binary_search(object) {
            target.insert(at, *object);
            added = true;
        }
    }
    added
}
