//! Questions the rules ask of the model: the changes of objects created once, the binding that
//! creates an object, and which classes' instances run a method, as the tree's call sites show.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::call_names::NameFilter;
use crate::facts::{Binding, CallReceiver, FunctionKind, Mutation, Name, Root, Value};
use crate::project::{ClassId, FileId, FuncId, MroEntry, Project, Resolved};

use super::lookup::typed_local;
use super::{Change, ChangeSite, Model, ObjectId, Origin};

/// The tree's method calls (`x.save()`, `Store().save()`, `self.save()`) of the names asked,
/// by the called name: built once, then asked per method of one of those names.
pub struct MethodCalls<'a> {
    project: &'a Project,
    /// By the last name of the callee: the file and index in `FileFacts::calls`, in file order.
    by_name: HashMap<&'a str, Vec<(FileId, u32)>>,
    /// Of the names asked, those of methods called somewhere on a receiver of unknown class.
    untyped: HashSet<&'a str>,
}

impl<'a> MethodCalls<'a> {
    /// The calls of methods named in `names`; files are scanned in parallel, each call first
    /// through the hash of its last name ([`crate::call_names`]).
    pub fn collect(project: &'a Project, names: &HashSet<&'a str>) -> Self {
        let filter = NameFilter::of(names.iter().copied());
        let per_file: Vec<Vec<(&'a str, u32)>> = project
            .files
            .par_iter()
            .map(|source| {
                let mut found = Vec::new();
                let call_names = source.facts.call_names();
                for (index, call) in source.facts.calls.iter().enumerate() {
                    if !filter.may_hold(call_names.last(index)) {
                        continue;
                    }
                    // A dotted callee, or a plain name called on `self`, the class or `super()`.
                    let last = match call.callee.rfind('.') {
                        Some(dot) => &call.callee[dot + 1..],
                        None if matches!(
                            call.receiver(),
                            CallReceiver::SelfParam | CallReceiver::Class | CallReceiver::Super
                        ) =>
                        {
                            call.callee.as_str()
                        }
                        None => continue,
                    };
                    if !last.is_empty() && names.contains(last) {
                        found.push((last, index as u32));
                    }
                }
                found
            })
            .collect();
        // Every name asked has an entry, so that a name with none is told from one not asked.
        let mut by_name: HashMap<&'a str, Vec<(FileId, u32)>> =
            names.iter().map(|name| (*name, Vec::new())).collect();
        for (file, found) in per_file.into_iter().enumerate() {
            for (name, index) in found {
                by_name
                    .entry(name)
                    .or_default()
                    .push((file as FileId, index));
            }
        }
        let untyped = project
            .files
            .iter()
            .flat_map(|f| f.facts.untyped_method_calls.iter().map(|n| n.as_str()))
            .filter(|name| names.contains(name))
            .collect();
        MethodCalls {
            project,
            by_name,
            untyped,
        }
    }

    /// These calls and those of the methods that make them on their own instance (`self.m()`,
    /// `super().m()`, `Base.m(self)`), so that [`Self::receiver_classes`] can ask, for such a
    /// call, which instances its caller runs on.
    pub fn with_callers(self) -> Self {
        let project = self.project;
        let callers: HashSet<&'a str> = self
            .by_name
            .values()
            .flatten()
            .filter_map(|&(file, index)| {
                let (caller, _) = call_on_own_instance(project, file, index)?;
                let name = project.function(caller).1.name.as_str();
                (!self.by_name.contains_key(name)).then_some(name)
            })
            .collect();
        if callers.is_empty() {
            return self;
        }
        let more = MethodCalls::collect(project, &callers);
        let mut merged = self;
        merged.by_name.extend(more.by_name);
        merged.untyped.extend(more.untyped);
        merged
    }

    /// Every call in the tree of a method named `name` (one of the names asked), as the file and
    /// index in `FileFacts::calls`; `None` when a method of that name is also called on a receiver
    /// of unknown class, which no call site records.
    pub fn sites(&self, name: &str) -> Option<&[(FileId, u32)]> {
        if self.untyped.contains(name) {
            return None;
        }
        Some(self.by_name.get(name).map_or(&[], |sites| sites.as_slice()))
    }

    /// The classes whose instances the tree is seen to run instance method `method` on, when every
    /// call in the tree of a method of that name shows its receiver's class and resolves there to
    /// `method`: `Post().tag(x)`, `post = Post(); post.tag(x)`, `def view(post: Post):
    /// post.tag(x)` (an annotated receiver stands for its subclasses too), and, in a method of
    /// class `K`, `self.tag(x)`, `super().tag(x)` and `Base.tag(self, x)`, whose receiver is an
    /// instance of `K` or of a subclass (for the first two, one that resolves the name to
    /// `method`), and of the classes the tree runs that method on when its calls show them (with
    /// [`Self::with_callers`]). `None` when there is no such call, or some call's receiver is of
    /// unknown class (`cls.tag()`, `self.post.tag()`, `item.tag()` with `item` unannotated, a
    /// method handed on uncalled): then any instance may run it. `method`'s name must be one of
    /// the names the calls were collected for. Always `None` for a special method (`__init__`),
    /// which Python runs without a call naming it.
    pub fn receiver_classes(&self, method: FuncId) -> Option<Vec<ClassId>> {
        self.receiver_classes_within(method, CALLERS_FOLLOWED)
    }

    fn receiver_classes_within(&self, method: FuncId, callers: u32) -> Option<Vec<ClassId>> {
        let project = self.project;
        let (_, facts) = project.function(method);
        // Python runs special methods on its own (`Axis(...)` runs `__init__`, `with` runs
        // `__enter__`): no call in the tree shows those.
        let special = facts.name.starts_with("__") && facts.name.ends_with("__");
        if facts.kind != FunctionKind::Instance
            || special
            || project.call_graph().entry_kind(method).is_some()
            || self.untyped.contains(facts.name.as_str())
        {
            return None;
        }
        let name = &facts.name;
        let sites = self.by_name.get(name.as_str())?;
        if sites.is_empty() || aliased_in_class_bodies(project, method, name) {
            return None;
        }
        let mut classes = Vec::new();
        for &(file, index) in sites {
            let call = &project.file(file).facts.calls[index as usize];
            let receiver = call.receiver();
            if let Some((caller, class)) = call_on_own_instance(project, file, index) {
                // `Base.tag(self)` runs `Base`'s method, whatever class `self` has.
                let explicit = receiver == CallReceiver::Name;
                if explicit {
                    let (written, _) = call.callee.rsplit_once('.')?;
                    let Resolved::Class(owner) = project.resolve(file, call.function(), written)
                    else {
                        return None;
                    };
                    if project.lookup_method(owner, name) != Some(method) {
                        continue;
                    }
                }
                let caller_classes = match callers {
                    0 => None,
                    _ => self.receiver_classes_within(caller, callers - 1),
                };
                let runs_method = |c: ClassId| {
                    explicit
                        || match receiver {
                            CallReceiver::Super => method_after(project, c, class, name),
                            _ => project.lookup_method(c, name),
                        } == Some(method)
                };
                classes.extend(
                    std::iter::once(class)
                        .chain(project.descendants(class).iter().copied())
                        .filter(|c| caller_classes.as_ref().is_none_or(|of| of.contains(c)))
                        .filter(|c| runs_method(*c)),
                );
                continue;
            }
            let (written, _) = call.callee.rsplit_once('.')?;
            let (class, exact) = match receiver {
                CallReceiver::NewInstance => {
                    match project.resolve(file, call.function(), written) {
                        Resolved::Class(class) => (class, true),
                        _ => return None,
                    }
                }
                CallReceiver::Local if !written.contains('.') && !call.reference() => {
                    let local = typed_local(project, file, call.function()?, written)?;
                    match project.resolve(file, call.function(), &local.class) {
                        Resolved::Class(class) => (class, local.exact),
                        _ => return None,
                    }
                }
                _ => return None,
            };
            // A method of the same name that another class defines is another method.
            if project.lookup_method(class, name) != Some(method) {
                continue;
            }
            classes.push(class);
            if !exact {
                classes.extend(project.descendants(class));
            }
        }
        classes.sort_unstable();
        classes.dedup();
        (!classes.is_empty()).then_some(classes)
    }
}

/// Whether the body of `method`'s class or of a subclass binds another name to it
/// (`_print_Basic = _print_not_supported`, `handle = Base.handle`): calls under that name, often
/// made by a name built at run time (`getattr(self, "_print_" + kind)`), run it too.
fn aliased_in_class_bodies(project: &Project, method: FuncId, name: &Name) -> bool {
    let (file, facts) = project.function(method);
    let Some(class) = facts.class.map(|index| project.class_id(file, index)) else {
        return false;
    };
    std::iter::once(class)
        .chain(project.descendants(class).iter().copied())
        .flat_map(|c| project.class(c).1.bindings.iter())
        .any(|binding| match &binding.value {
            Value::Alias(path) => match path.attrs.last() {
                Some(last) => last == name,
                None => matches!(&path.root, Root::Global(n) | Root::Local(n) if n == name),
            },
            _ => false,
        })
}

/// How many callers up [`MethodCalls::receiver_classes`] follows calls made on the caller's own
/// instance: `Base.tag(self)` in `Mixin.setup`, itself run only as `Mixin.setup(self)` in
/// `Form.__init__`.
const CALLERS_FOLLOWED: u32 = 2;

/// The method (outermost function, an instance method) and its class, when call `index` of
/// `file` is made on that method's own instance: `self.m()`, `super().m()` (plain names, not
/// handed on uncalled), or `Base.m(self)` ([`crate::facts::FileFacts::calls_on_own_instance`]).
fn call_on_own_instance(project: &Project, file: FileId, index: u32) -> Option<(FuncId, ClassId)> {
    let facts = &project.file(file).facts;
    let call = &facts.calls[index as usize];
    let own = match call.receiver() {
        CallReceiver::SelfParam | CallReceiver::Super => !call.callee.contains('.'),
        CallReceiver::Name => facts.calls_on_own_instance.binary_search(&index).is_ok(),
        _ => false,
    };
    if !own || call.reference() {
        return None;
    }
    let function = call.function()?;
    let outer = project.outermost_function(file, function);
    if facts.functions[outer as usize].kind != FunctionKind::Instance {
        return None;
    }
    let class = project.method_class(file, function)?;
    Some((project.function_id(file, outer), class))
}

/// The method `name` that `super().name` in a method of `after` finds on an instance of `class`:
/// the first class of the tree after `after` in `class`'s MRO that defines one.
fn method_after(project: &Project, class: ClassId, after: ClassId, name: &Name) -> Option<FuncId> {
    let mut mro = project.mro(class);
    mro.position(|entry| *entry == MroEntry::Class(after))?;
    mro.find_map(|entry| match entry {
        MroEntry::Class(c) => project.own_method(*c, name),
        MroEntry::External(_) => None,
    })
}

/// One in-place change of an object created once: the change, the object, and the extractor's
/// mutation event it is.
pub struct OnceChange<'m> {
    pub change: &'m Change,
    pub object: ObjectId,
    pub mutation: &'m Mutation,
}

impl Model {
    /// The question the rules start from: every mutation event the model attaches to an object
    /// created once (at import time, in a class body, as a default), one item per object it
    /// may reach. Rules then tell the shape by how the object was created (its `origin` and
    /// `creation`) and how the change reaches it (the change's `through` and `timing`).
    pub fn once_object_mutations<'m>(
        &'m self,
        project: &'m Project,
    ) -> impl Iterator<Item = OnceChange<'m>> + 'm {
        self.changes.iter().flat_map(move |change| {
            let mutation = match change.site {
                ChangeSite::Mutation(index) => {
                    Some(&project.file(change.file).facts.mutations[index as usize])
                }
                ChangeSite::CallResult(_) => None,
            };
            change
                .objects
                .iter()
                .filter(|id| self.object(**id).lifetime.is_once())
                .filter_map(move |id| {
                    Some(OnceChange {
                        change,
                        object: *id,
                        mutation: mutation?,
                    })
                })
        })
    }

    /// The module- or class-level binding that creates `object`, with the class for a
    /// class-level one.
    pub fn binding_of<'p>(
        &self,
        project: &'p Project,
        object: ObjectId,
    ) -> Option<(Option<ClassId>, &'p Binding)> {
        let object = self.object(object);
        let facts = &project.file(object.file).facts;
        match object.origin {
            Origin::ModuleGlobal => facts
                .globals
                .iter()
                .find(|b| b.span == object.site)
                .map(|b| (None, b)),
            Origin::ClassAttribute(class) => project
                .class(class)
                .1
                .bindings
                .iter()
                .find(|b| b.span == object.site)
                .map(|b| (Some(class), b)),
            Origin::Default(..)
            | Origin::KeywordDefault
            | Origin::ClosureLocal(_)
            | Origin::CachedResult(_)
            | Origin::ImportTimeField(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MethodCalls;
    use crate::model::Model;
    use crate::model::tests::link;
    use crate::project::{ClassId, Project};

    fn class_named(project: &Project, name: &str) -> ClassId {
        project
            .class_ids()
            .find(|c| project.class(*c).1.name == name)
            .unwrap()
    }

    fn method_named(project: &Project, name: &str) -> crate::project::FuncId {
        (0..project.files.len() as u32)
            .flat_map(|file| {
                let count = project.file(file).facts.functions.len() as u32;
                (0..count).map(move |i| (file, i))
            })
            .map(|(file, i)| project.function_id(file, i))
            .find(|f| project.function(*f).1.name == name)
            .unwrap()
    }

    const MODELS: &str = "class Base:\n    tags = []\n\n    def tag(self, t):\n        self.tags.append(t)\n\nclass Post(Base):\n    pass\n\nclass Note(Base):\n    pass\n";

    #[test]
    fn the_classes_a_method_runs_on_are_those_its_callers_show() {
        let project = link(&[
            ("app/models.py", MODELS),
            (
                "app/views.py",
                "from app.models import Note, Post\n\ndef a(post: Post):\n    post.tag(1)\n\ndef b():\n    Note().tag(2)\n",
            ),
        ]);
        let calls = MethodCalls::collect(&project, &["tag"].into_iter().collect());
        let mut expected = vec![class_named(&project, "Post"), class_named(&project, "Note")];
        expected.sort();
        assert_eq!(
            calls.receiver_classes(method_named(&project, "tag")),
            Some(expected)
        );
    }

    #[test]
    fn a_caller_whose_receiver_is_unknown_leaves_every_class_possible() {
        let project = link(&[
            ("app/models.py", MODELS),
            (
                "app/views.py",
                "from app.models import Post\n\ndef a(post: Post, other):\n    post.tag(1)\n    other.tag(2)\n",
            ),
        ]);
        let calls = MethodCalls::collect(&project, &["tag"].into_iter().collect());
        assert_eq!(calls.receiver_classes(method_named(&project, "tag")), None);
    }

    const MIXIN: &str = "class Mixin:\n    tags = []\n\n    def tag(self, t):\n        self.tags.append(t)\n\nclass Setup:\n    def __init__(self):\n        self.tags = []\n        self.setup()\n\n    def setup(self):\n        pass\n\nclass Post(Setup, Mixin):\n    def setup(self):\n        super().setup()\n        Mixin.tag(self, 1)\n\nclass Draft(Post):\n    pass\n";

    #[test]
    fn a_call_on_the_callers_own_instance_runs_on_the_classes_its_caller_runs_on() {
        let project = link(&[("app/models.py", MIXIN)]);
        let calls = MethodCalls::collect(&project, &["tag"].into_iter().collect()).with_callers();
        let mut expected = vec![
            class_named(&project, "Post"),
            class_named(&project, "Draft"),
        ];
        expected.sort();
        assert_eq!(
            calls.receiver_classes(method_named(&project, "tag")),
            Some(expected)
        );
        // `Setup.__init__` runs `setup` through `self`, but `C()` runs `__init__` unseen.
        assert_eq!(
            calls.receiver_classes(method_named(&project, "__init__")),
            None
        );
    }

    #[test]
    fn a_method_bound_under_another_name_in_a_class_body_may_run_on_any_instance() {
        let aliased = MIXIN.replace(
            "class Setup:",
            "class Other(Mixin):\n    mark = Mixin.tag\n\nclass Setup:",
        );
        let project = link(&[("app/models.py", aliased.as_str())]);
        let calls = MethodCalls::collect(&project, &["tag"].into_iter().collect()).with_callers();
        assert_eq!(calls.receiver_classes(method_named(&project, "tag")), None);
    }

    #[test]
    fn once_object_mutations_name_the_object_and_its_binding() {
        let project = link(&[(
            "app/state.py",
            "_seen = set()\n\nclass Box:\n    items = []\n\ndef handle(x):\n    _seen.add(x)\n\ndef per_call():\n    fresh = []\n    fresh.append(1)\n",
        )]);
        let model = Model::build(&project);
        let names: Vec<&str> = model
            .once_object_mutations(&project)
            .map(|once| {
                let (class, binding) = model.binding_of(&project, once.object).unwrap();
                assert!(class.is_none());
                binding.name.as_str()
            })
            .collect();
        assert_eq!(names, ["_seen"]);
    }
}
