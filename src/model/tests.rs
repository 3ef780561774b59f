//! The model on small projects: objects, flows, changes and their timing.

use std::path::PathBuf;

use crate::facts::{FileFacts, FuncIdx};
use crate::project::{LinkInput, Project};
use crate::syntax;

use super::{ClassReceiver, Lifetime, Location, Model, Origin, Through, Timing};

/// Links `files` written into a temporary tree, each folder a package (module names come from
/// the `__init__.py` files on disk).
pub(super) fn link(files: &[(&str, &str)]) -> Project {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let inputs = files
        .iter()
        .map(|(path, text)| {
            let path: PathBuf = dir.path().join(path);
            let folder = path.parent().expect("files are in a package");
            std::fs::create_dir_all(folder).expect("the package folder");
            std::fs::write(folder.join("__init__.py"), "").expect("the package marker");
            std::fs::write(&path, text).expect("the test file");
            LinkInput {
                path,
                facts: syntax::extract(text)
                    .expect("the test source parses")
                    .into(),
            }
        })
        .collect();
    Project::link(inputs, &[])
}

/// The index in its file's facts of the function named `name`.
fn function_named(facts: &FileFacts, name: &str) -> FuncIdx {
    facts
        .functions
        .iter()
        .position(|f| f.name == name)
        .expect("a function of that name") as FuncIdx
}

/// The timing of each change, by the qualified name of the function making it, sorted.
fn timings_by_function(project: &Project) -> Vec<(String, Timing)> {
    let model = Model::build(project);
    let mut timings: Vec<(String, Timing)> = model
        .changes()
        .iter()
        .map(|c| {
            let facts = &project.file(c.file).facts.functions[c.function as usize];
            (facts.qualname.to_string(), c.timing)
        })
        .collect();
    timings.sort_by(|a, b| a.0.cmp(&b.0));
    timings
}

fn paths_changed(model: &Model, through: Through) -> Vec<String> {
    let mut paths: Vec<String> = model
        .changes()
        .iter()
        .filter(|c| c.through == through)
        .flat_map(|c| c.objects.iter().map(|o| model.object(*o).path.clone()))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

#[test]
fn objects_are_named_by_module_and_qualified_name() {
    let project = link(&[(
        "app/store.py",
        "_prefs = {}\n\nclass Runner:\n    hooks = []\n\n    def __init__(self, plugins=[]):\n        self.plugins = plugins\n",
    )]);
    let model = Model::build(&project);
    let mut paths: Vec<&str> = model.objects().iter().map(|o| o.path.as_str()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "app.store.Runner.__init__.<default plugins>",
            "app.store.Runner.hooks",
            "app.store._prefs",
        ]
    );
    assert!(model.objects().iter().all(|o| o.lifetime == Lifetime::Once));
}

#[test]
fn a_default_stored_on_self_is_changed_through_an_instance_in_another_module() {
    let project = link(&[
        (
            "jobs/runner.py",
            "class Runner:\n    def __init__(self, plugins=[]):\n        self.plugins = plugins\n",
        ),
        (
            "jobs/views.py",
            "from jobs.runner import Runner\n\ndef handle(p):\n    r = Runner()\n    r.plugins.append(p)\n",
        ),
    ]);
    let model = Model::build(&project);
    assert_eq!(
        paths_changed(&model, Through::Instance),
        ["jobs.runner.Runner.__init__.<default plugins>"]
    );
    let change = model
        .changes()
        .iter()
        .find(|c| c.through == Through::Instance)
        .unwrap();
    assert_eq!(change.timing, Timing::PerCall);
    // The flow path goes from the parameter to the field `self.plugins`.
    let path = model.flow_path(change.objects[0], &change.locations);
    assert_eq!(path.len(), 1);
    assert!(matches!(path[0].from, Location::Param(..)));
    assert!(matches!(&path[0].to, Location::Field(_, name) if name == "plugins"));
}

#[test]
fn defaults_flow_through_calls_and_returns() {
    let project = link(&[(
        "app/util.py",
        "def defaults(options={}):\n    return options\n\n\
         def forward(options={}):\n    keep(options)\n\n\
         def keep(target):\n    target['k'] = 1\n\n\
         def handler():\n    defaults()['x'] = 1\n",
    )]);
    let model = Model::build(&project);
    assert_eq!(
        paths_changed(&model, Through::CallResult),
        ["app.util.defaults.<default options>"]
    );
    assert_eq!(
        paths_changed(&model, Through::Parameter),
        ["app.util.forward.<default options>"]
    );
}

#[test]
fn unresolved_calls_carry_nothing() {
    let project = link(&[(
        "app/m.py",
        "def forward(options={}):\n    unknown(options)\n\ndef handler():\n    unknown_factory()['x'] = 1\n",
    )]);
    let model = Model::build(&project);
    assert!(model.changes().is_empty());
}

#[test]
fn module_globals_aliases_and_class_attributes_are_followed() {
    let project = link(&[
        ("app/state.py", "REGISTRY = {}\nALIAS = REGISTRY\n"),
        (
            "app/views.py",
            "from app import state\n\nclass View:\n    cache = {}\n\n    def get(self, k):\n        self.cache[k] = 1\n        state.ALIAS[k] = 2\n",
        ),
    ]);
    let model = Model::build(&project);
    assert_eq!(
        paths_changed(&model, Through::ModuleName),
        ["app.state.REGISTRY"]
    );
    assert_eq!(
        paths_changed(&model, Through::SelfAttribute),
        ["app.views.View.cache"]
    );
}

#[test]
fn what_only_a_start_up_hook_reaches_changes_once_after_import() {
    let project = link(&[
        ("sentry_sdk/__init__.py", ""),
        (
            "sentry_sdk/integrations/__init__.py",
            "class Integration:\n    @staticmethod\n    def setup_once():\n        raise NotImplementedError\n",
        ),
        (
            "sentry_sdk/integrations/cloud.py",
            "from sentry_sdk.integrations import Integration\n\n\nclass Cloud(Integration):\n    seen = []\n\n    @staticmethod\n    def setup_once():\n        Cloud.seen.append(1)\n\n\nclass Other:\n    seen = []\n\n    @staticmethod\n    def setup_once():\n        Other.seen.append(1)\n",
        ),
    ]);
    assert_eq!(
        timings_by_function(&project),
        [
            ("Cloud.setup_once".to_string(), Timing::OnceAfterImport),
            ("Other.setup_once".to_string(), Timing::PerCall),
        ]
    );
}

#[test]
fn import_time_changes_are_told_apart() {
    let project = link(&[(
        "app/registry.py",
        "HANDLERS = []\n\ndef register(func):\n    HANDLERS.append(func)\n    return func\n\n@register\ndef handler():\n    pass\n",
    )]);
    let model = Model::build(&project);
    let timings: Vec<Timing> = model.changes().iter().map(|c| c.timing).collect();
    assert_eq!(timings, [Timing::ImportTime]);
}

#[test]
fn a_default_of_a_nested_function_is_created_per_call() {
    let project = link(&[(
        "app/m.py",
        "def outer():\n    def inner(acc=[]):\n        acc.append(1)\n    return inner\n",
    )]);
    let model = Model::build(&project);
    let object = &model.objects()[0];
    assert_eq!(object.lifetime, Lifetime::PerCall);
    assert!(matches!(object.origin, Origin::Default(..)));
}

#[test]
fn the_object_of_a_definition_span_is_found() {
    let text = "_prefs = {}\n";
    let project = link(&[("app/store.py", text)]);
    let model = Model::build(&project);
    let span = crate::facts::Span::new(0, 6);
    assert_eq!(
        model.object_defined_at(0, span).map(|o| o.path.as_str()),
        Some("app.store._prefs")
    );
}

#[test]
fn a_default_naming_a_module_global_is_that_global() {
    let text = "_CACHE = {}\n\n\ndef lookup(key, cache=_CACHE):\n    cache[key] = 1\n";
    let project = link(&[("app/m.py", text)]);
    let model = Model::build(&project);
    let start = text.find("cache=").unwrap() as u32;
    let span = crate::facts::Span::new(start, start + 5);
    assert_eq!(
        model.object_defined_at(0, span).map(|o| o.path.as_str()),
        Some("app.m._CACHE")
    );
    assert_eq!(paths_changed(&model, Through::Parameter), ["app.m._CACHE"]);
}

#[test]
fn a_returned_default_stored_on_a_thread_local_is_changed_by_a_third_module() {
    let project = link(&[
        (
            "app/prefs.py",
            "class Prefs:\n    def defaults(self, d={}):\n        return d\n",
        ),
        (
            "app/session.py",
            "import threading\n\nfrom app.prefs import Prefs\n\n_local = threading.local()\n\n\ndef load():\n    _local.prefs = Prefs().defaults()\n",
        ),
        (
            "app/views.py",
            "from app import session\n\n\ndef dark():\n    session._local.prefs['theme'] = 'dark'\n",
        ),
    ]);
    let model = Model::build(&project);
    assert_eq!(
        paths_changed(&model, Through::ModuleName),
        ["app.prefs.Prefs.defaults.<default d>"]
    );
    let change = model
        .changes()
        .iter()
        .find(|c| c.through == Through::ModuleName)
        .unwrap();
    // From the parameter to the method's result, then into the thread-local's attribute.
    let path = model.flow_path(change.objects[0], &change.locations);
    assert_eq!(path.len(), 2, "{path:?}");
    assert!(matches!(path[0].to, Location::Return(_)));
    assert!(matches!(&path[1].to, Location::Attribute(_, name) if name == "prefs"));
}

#[test]
fn a_decorators_local_is_created_once_and_changed_per_call_through_the_closure() {
    let project = link(&[
        (
            "app/deco.py",
            "def remember(func):\n    calls = {}\n\n    def wrapper(user):\n        calls[user] = 1\n        return func(user)\n\n    return wrapper\n",
        ),
        (
            "app/views.py",
            "from app.deco import remember\n\n@remember\ndef page(user):\n    return user\n",
        ),
    ]);
    let model = Model::build(&project);
    let object = model
        .objects()
        .iter()
        .find(|o| o.path == "app.deco.remember.<local calls>")
        .expect("the decorator's dict is an object");
    assert_eq!(object.lifetime, Lifetime::Once);
    assert!(matches!(object.origin, Origin::ClosureLocal(_)));
    let change = model
        .changes()
        .iter()
        .find(|c| c.through == Through::Closure)
        .expect("the wrapper's store is a change through the closure");
    assert_eq!(change.timing, Timing::PerCall);
    assert!(matches!(change.locations.as_slice(), [Location::Local(_, name)] if name == "calls"));
}

#[test]
fn a_local_of_a_function_called_per_request_is_not_an_object() {
    let project = link(&[(
        "app/deco.py",
        "def remember(func):\n    calls = {}\n\n    def wrapper(user):\n        calls[user] = 1\n        return func(user)\n\n    return wrapper\n\ndef handler(user):\n    return remember(print)(user)\n",
    )]);
    let model = Model::build(&project);
    assert!(model.objects().iter().all(|o| !o.path.contains("<local")));
}

#[test]
fn a_factorys_kwargs_called_from_module_level_code_is_held_by_the_view() {
    let project = link(&[
        (
            "shop/views.py",
            "class View:\n    @classmethod\n    def as_view(cls, **initkwargs):\n        def view(request):\n            initkwargs[\"last\"] = request\n            return 1\n\n        return view\n",
        ),
        (
            "shop/urls.py",
            "from shop.views import View\n\nurls = [View.as_view(title=\"x\")]\n",
        ),
    ]);
    let model = Model::build(&project);
    let changed = paths_changed(&model, Through::Parameter);
    assert_eq!(changed, ["shop.views.View.as_view.<local initkwargs>"]);
    assert!(model.changes().iter().all(|c| c.timing == Timing::PerCall));
}

#[test]
fn a_nested_functions_own_local_is_not_the_enclosing_ones() {
    let project = link(&[(
        "app/deco.py",
        "def remember(func):\n    calls = {}\n\n    def wrapper(user):\n        calls = {}\n        calls[user] = 1\n        return func(user)\n\n    return wrapper\n\n@remember\ndef page(user):\n    return user\n",
    )]);
    let model = Model::build(&project);
    assert!(model.changes().is_empty());
}

/// The tree is the framework: the base class itself is in the tree, and its subclasses' hooks
/// are start-up entry points; a method of the same name on an unrelated class is not.
#[test]
fn start_up_hooks_of_a_framework_in_the_tree_run_once() {
    let project = link(&[
        ("sentry_sdk/__init__.py", ""),
        (
            "sentry_sdk/integrations/__init__.py",
            "class Integration:\n    @staticmethod\n    def setup_once():\n        raise NotImplementedError\n",
        ),
        (
            "sentry_sdk/integrations/cloud.py",
            "from sentry_sdk.integrations import Integration\n\n\nclass Cloud(Integration):\n    @staticmethod\n    def setup_once():\n        Cloud.detect()\n\n    @classmethod\n    def detect(cls):\n        cls.token = 1\n\n\nclass Other:\n    @staticmethod\n    def setup_once():\n        Other.token = 1\n",
        ),
    ]);
    let graph = project.call_graph();
    let kinds: Vec<(String, &str)> = graph
        .start_up_entry_points()
        .iter()
        .map(|e| {
            let (file, facts) = project.function(e.function);
            (
                format!("{}.{}", project.file(file).module, facts.qualname),
                e.kind.as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (
                "sentry_sdk.integrations.Integration.setup_once".to_string(),
                "Sentry integration set-up"
            ),
            (
                "sentry_sdk.integrations.cloud.Cloud.setup_once".to_string(),
                "Sentry integration set-up"
            ),
        ]
    );
    let runs_per_call = |qualname: &str| {
        let (file, idx) = (0..project.function_count() as u32)
            .map(crate::project::FuncId)
            .find_map(|id| {
                let (_, facts) = project.function(id);
                (facts.qualname == qualname).then(|| project.function_in_file(id))
            })
            .expect("the function is in the tree");
        super::runs_per_call(&project, file, idx)
    };
    assert!(!runs_per_call("Cloud.setup_once"));
    assert!(!runs_per_call("Cloud.detect"));
    assert!(runs_per_call("Other.setup_once"));
}

#[test]
fn writes_reaching_module_globals_are_kept_by_the_global_they_reach() {
    use super::GlobalWriteKind;
    let project = link(&[
        (
            "app/state.py",
            "counter = 0\nregistry = {}\n\ndef bump():\n    global counter, fresh\n    counter += 1\n    fresh = 1\n\ndef reset():\n    global counter\n    counter = 0\n",
        ),
        (
            "app/views.py",
            "from app import state\n\ndef view(k, v):\n    state.registry[k] = v\n    state.counter = 5\n    local = {}\n    local[k] = v\n",
        ),
    ]);
    let model = Model::build(&project);
    let name = |global: Option<(u32, u32)>| {
        global.map(|(file, index)| project.file(file).facts.globals[index as usize].name)
    };
    let mut written: Vec<(String, Option<String>)> = model
        .global_writes(&project)
        .iter()
        .map(|w| {
            let kind = match w.kind {
                GlobalWriteKind::Rebind { .. } => "rebind".to_string(),
                GlobalWriteKind::Mutation { leading, .. } => format!("mutation after {leading}"),
                GlobalWriteKind::AttributeStore { .. } => "attribute".to_string(),
                GlobalWriteKind::ModuleAttributeRebind { .. } => "module attribute".to_string(),
            };
            (kind, name(w.global).map(|n| n.to_string()))
        })
        .collect();
    written.sort();
    assert_eq!(
        written,
        [
            ("module attribute".to_string(), Some("counter".to_string())),
            ("mutation after 0".to_string(), Some("counter".to_string())),
            ("mutation after 1".to_string(), Some("registry".to_string())),
            ("rebind".to_string(), None),
            ("rebind".to_string(), Some("counter".to_string())),
        ]
    );
}

#[test]
fn a_cached_functions_result_is_one_object_that_callers_change() {
    let project = link(&[
        (
            "app/config.py",
            "from functools import lru_cache\n\n@lru_cache\ndef settings():\n    return {}\n\ndef plain():\n    return {}\n",
        ),
        (
            "app/views.py",
            "from app.config import plain, settings\n\ndef view(v):\n    settings()['k'] = v\n    s = settings()\n    s.update(v=v)\n    plain()['k'] = v\n",
        ),
    ]);
    let model = Model::build(&project);
    let results = model.cached_results(&project);
    let paths: Vec<&str> = results.objects.iter().map(|o| o.path.as_str()).collect();
    assert_eq!(paths, ["app.config.settings.<cached result>"]);
    let mut changes: Vec<Through> = results.changes.iter().map(|c| c.through).collect();
    changes.sort_by_key(|t| format!("{t:?}"));
    assert_eq!(changes, [Through::CallResult, Through::Instance]);
}

#[test]
fn changes_of_self_attributes_are_kept_by_attribute_and_the_changing_class() {
    let project = link(&[(
        "app/jobs.py",
        "class Job:\n    def __init__(self, hooks):\n        self.hooks = hooks\n\n    def add(self, h):\n        self.hooks.append(h)\n        self.hooks.inner.append(h)\n\nclass Batch(Job):\n    def reset(self):\n        self.hooks.clear()\n\ndef outside(job):\n    job.hooks.append(1)\n",
    )]);
    let model = Model::build(&project);
    let classes: Vec<&str> = model
        .self_field_changes(&project, "hooks")
        .iter()
        .map(|c| project.class(c.class).1.name.as_str())
        .collect();
    assert_eq!(classes, ["Job", "Batch"]);
    assert!(model.self_field_changes(&project, "missing").is_empty());
}

#[test]
fn writes_of_thread_locals_name_the_object_they_reach() {
    let project = link(&[(
        "app/ctx.py",
        "import threading\nfrom types import SimpleNamespace\n\n_local = threading.local()\n_plain = SimpleNamespace()\n\nclass Stack:\n    def __init__(self):\n        self._tls = threading.local()\n\n    def push(self, x):\n        self._tls.items.append(x)\n\nasync def view(u):\n    _local.user = u\n    _plain.user = u\n",
    )]);
    let model = Model::build(&project);
    let mut writes: Vec<(String, String)> = model
        .thread_local_writes(&project)
        .iter()
        .map(|w| (w.written.clone(), w.object.name.clone()))
        .collect();
    writes.sort();
    assert_eq!(
        writes,
        [
            ("_local.user".to_string(), "_local".to_string()),
            ("self._tls.items".to_string(), "self._tls".to_string()),
        ]
    );
}

#[test]
fn changes_through_instances_know_the_classes_the_instance_may_have() {
    let project = link(&[(
        "app/jobs.py",
        "class Job:\n    hooks = []\n\n    def add(self, h):\n        self.hooks.append(h)\n\nclass Batch(Job):\n    pass\n\ndef view(h):\n    job = Job()\n    job.hooks.append(h)\n    other.hooks.append(h)\n\nJob().hooks.append(0)\n",
    )]);
    let model = Model::build(&project);
    let changes: Vec<(String, Vec<&str>)> = model
        .instance_changes(&project)
        .iter()
        .map(|c| {
            let classes = c
                .classes
                .iter()
                .map(|k| project.class(*k).1.name.as_str())
                .collect();
            (c.receiver.clone(), classes)
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("self".to_string(), vec!["Job", "Batch"]),
            ("job".to_string(), vec!["Job"]),
        ]
    );
}

#[test]
fn class_level_changes_come_through_instances_and_through_the_class() {
    let project = link(&[
        (
            "app/jobs.py",
            "class Job:\n    hooks = []\n\n    def add(self, h):\n        self.hooks.append(h)\n\n    @classmethod\n    def register(cls, h):\n        cls.hooks.append(h)\n\nclass Batch(Job):\n    pass\n\ndef setup():\n    Job.hooks.append(0)\n\nsetup()\n",
        ),
        (
            "app/views.py",
            "from app import jobs\nfrom app.jobs import Batch\n\ndef view(h):\n    jobs.Job.hooks.append(h)\n    Batch.hooks.clear()\n    type(h).hooks.append(h)\n",
        ),
    ]);
    let model = Model::build(&project);
    let changes: Vec<(ClassReceiver, Vec<&str>, usize)> = model
        .class_level_changes(&project)
        .iter()
        .map(|c| {
            let classes = c
                .classes
                .iter()
                .map(|k| project.class(*k).1.name.as_str())
                .collect();
            (c.receiver.clone(), classes, c.attr_index)
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                ClassReceiver::Instance("self".to_string()),
                vec!["Job", "Batch"],
                0
            ),
            (
                ClassReceiver::Class { named: false },
                vec!["Job", "Batch"],
                0
            ),
            (ClassReceiver::Class { named: true }, vec!["Job"], 1),
            (ClassReceiver::Class { named: true }, vec!["Batch"], 0),
        ]
    );
}

#[test]
fn module_level_instances_and_the_writes_that_name_them() {
    let project = link(&[
        (
            "app/svc.py",
            "class Service:\n    def __init__(self):\n        self.cache = []\n\nservice = Service()\nitems = dict()\n\nif __name__ == \"__main__\":\n    local_run = Service()\n",
        ),
        (
            "app/views.py",
            "from app.svc import service as s, items\n\ndef handle(x):\n    s.user = x\n    s.cache.append(x)\n    s.cache.inner.append(x)\n    items.update(x)\n    other = x\n    other.cache.append(x)\n",
        ),
    ]);
    let model = Model::build(&project);
    let names: Vec<&str> = model
        .singletons(&project)
        .iter()
        .map(|s| s.name(&project))
        .collect();
    assert_eq!(names, ["service"]);
    let views = project
        .files
        .iter()
        .position(|f| f.module == "app.views")
        .expect("the views module") as u32;
    let facts = &project.file(views).facts;
    let written: Vec<String> = model
        .singleton_writes(&project)
        .iter()
        .map(|w| match w.site {
            super::SingletonWriteSite::Assignment(i) => {
                format!("{}=", facts.attribute_assignments[i as usize].attr)
            }
            super::SingletonWriteSite::Mutation(i) => facts.mutations[i as usize]
                .target
                .attrs
                .iter()
                .map(|a| a.as_str())
                .collect::<Vec<_>>()
                .join("."),
        })
        .collect();
    assert_eq!(written, ["user=", "cache"]);
}

#[test]
fn self_writes_are_kept_by_the_outermost_method() {
    let project = link(&[(
        "app/jobs.py",
        "class Job:\n    def run(self, x):\n        self.last = x\n        self.items.append(x)\n        self.items.inner.append(x)\n        def later():\n            self.done.add(x)\n        return later\n\ndef outside(job, x):\n    job.items.append(x)\n",
    )]);
    let model = Model::build(&project);
    let file = 0;
    let facts = &project.file(file).facts;
    let run = function_named(facts, "run");
    let writes = model
        .self_writes_in(&project, project.function_id(file, run))
        .expect("the method writes");
    let assigned: Vec<&str> = writes
        .assignments
        .iter()
        .map(|i| facts.attribute_assignments[*i as usize].attr.as_str())
        .collect();
    let changed: Vec<&str> = writes
        .mutations
        .iter()
        .map(|i| facts.mutations[*i as usize].target.attrs[0].as_str())
        .collect();
    assert_eq!(assigned, ["last"]);
    assert_eq!(changed, ["items", "done"]);
    let outside = function_named(facts, "outside");
    assert!(
        model
            .self_writes_in(&project, project.function_id(file, outside))
            .is_none()
    );
}

#[test]
fn parameter_changes_are_kept_by_function_and_position() {
    let project = link(&[(
        "app/util.py",
        "def add(self_like, items, x):\n    items.append(x)\n    other = []\n    other.append(x)\n    def inner(items):\n        items.clear()\n    x[0] = 1\n",
    )]);
    let model = Model::build(&project);
    let file = 0;
    let facts = &project.file(file).facts;
    let add = project.function_id(file, 0);
    let kinds = |param: u32| -> Vec<String> {
        model
            .parameter_changes(&project, add, param)
            .iter()
            .map(|i| format!("{:?}", facts.mutations[*i as usize].kind))
            .collect()
    };
    assert_eq!(kinds(1).len(), 1, "only `items.append` of `add` itself");
    assert_eq!(kinds(2).len(), 1, "`x[0] = 1`");
    assert!(kinds(0).is_empty());
    let inner = project.function_id(file, 1);
    assert_eq!(model.parameter_changes(&project, inner, 0).len(), 1);
}

#[test]
fn attribute_writes_tell_set_up_from_later_changes() {
    let project = link(&[(
        "app/conf.py",
        "class Conf:\n    def __init__(self, a):\n        self.fixed = a\n        self.items = []\n\n    def add(self, x):\n        self.items.append(x)\n        self.seen = x\n\n    def reset(self):\n        self.cache.clear()\n\nREGISTRY = {}\n\ndef wipe():\n    REGISTRY.clear()\n",
    )]);
    let model = Model::build(&project);
    let writes = model.attribute_writes(&project);
    assert!(
        !writes.changed_after_setup("fixed"),
        "set in `__init__` only"
    );
    assert!(writes.changed_after_setup("items"), "changed in `add`");
    assert!(writes.changed_after_setup("seen"));
    assert!(writes.assigned("fixed") && writes.assigned("seen"));
    assert!(!writes.assigned("cache"), "only emptied, never assigned");
    assert!(writes.emptied("cache") && writes.emptied("REGISTRY"));
    assert!(!writes.emptied("items"));

    let dynamic = link(&[(
        "app/dyn.py",
        "class Conf:\n    def __init__(self, name, a):\n        setattr(self, name, a)\n\n    def later(self, name, a):\n        setattr(self, name, a)\n",
    )]);
    let model = Model::build(&dynamic);
    let writes = model.attribute_writes(&dynamic);
    assert!(writes.changed_after_setup("anything") && writes.assigned("anything"));
}

#[test]
fn the_first_change_of_a_local_is_kept_by_function() {
    let project = link(&[(
        "app/memo.py",
        "CACHE = {}\n\ndef fill(key, x):\n    CACHE[key] = x\n    objects = []\n    objects.append(x)\n    objects.extend(x)\n\ndef plain(key):\n    CACHE[key] = key\n",
    )]);
    let model = Model::build(&project);
    let facts = &project.file(0).facts;
    let index = |name: &str| function_named(facts, name);
    let append = facts
        .mutations
        .iter()
        .find(|m| matches!(&m.kind, crate::facts::MutationKind::Method(n) if n == "append"))
        .expect("the append");
    assert_eq!(
        model.first_local_change(&project, 0, index("fill")),
        Some(append.span.start)
    );
    assert_eq!(model.first_local_change(&project, 0, index("plain")), None);
}

#[test]
fn a_default_is_held_by_one_instance_only_when_one_construction_leaves_it_and_runs_once() {
    let gate = "class Gate:\n    def __init__(self, app, permissions={}):\n        self.permissions = permissions\n\n    def for_user(self):\n        return Gate(self, self.permissions)\n";
    let held = |other: &str| {
        let project = link(&[("auth/gate.py", gate), ("auth/setup.py", other)]);
        let init = function_named(&project.file(0).facts, "__init__");
        super::default_held_by_one_instance(&project, 0, init, 2)
    };
    // The one construction leaving `permissions` out is module-level code.
    assert!(held("from auth.gate import Gate\n\ngate = Gate(None)\n"));
    // Two instances take the default.
    assert!(!held(
        "from auth.gate import Gate\n\na = Gate(None)\nb = Gate(None)\n"
    ));
    // A construction in a function with no known caller may run per call.
    assert!(!held(
        "from auth.gate import Gate\n\ndef make(app):\n    return Gate(app)\n"
    ));
    // Used as a value, the class may be built anywhere.
    assert!(!held(
        "from auth.gate import Gate\n\nFACTORIES = [Gate]\ngate = Gate(None)\n"
    ));
    // No construction leaves it out: callers outside the tree may.
    assert!(!held("from auth.gate import Gate\n"));
}

#[test]
fn a_change_behind_a_module_flag_the_block_sets_happens_once_but_one_behind_self_per_call() {
    let project = link(&[(
        "site/wsgi.py",
        "CONFIG = {}\n_loaded = False\n\n\ndef application(environ):\n    global _loaded\n    if not _loaded:\n        _loaded = True\n        CONFIG.update({'a': 1})\n\n\nclass Handler:\n    def handle(self):\n        if not self.loaded:\n            self.loaded = True\n            CONFIG.update({'b': 2})\n",
    )]);
    assert_eq!(
        timings_by_function(&project),
        [
            ("Handler.handle".to_string(), Timing::PerCall),
            ("application".to_string(), Timing::OnceAtRunTime),
        ]
    );
}

#[test]
fn an_attribute_is_shadowed_when_every_caller_assigns_it_before_the_call() {
    let source = |assign_first: bool| {
        let run = if assign_first {
            "        self.params = {}\n        self.respond()\n"
        } else {
            "        self.respond()\n        self.params = {}\n"
        };
        format!(
            "class Request:\n    params = {{}}\n\n    def run(self):\n{run}\n    def respond(self):\n        self.parse()\n\n    def parse(self):\n        self.params.update(a=1)\n"
        )
    };
    for (assign_first, shadowed) in [(true, true), (false, false)] {
        let text = source(assign_first);
        let project = link(&[("web/request.py", text.as_str())]);
        let model = Model::build(&project);
        let facts = &project.file(0).facts;
        let class = project
            .method_class(0, function_named(facts, "parse"))
            .expect("a method");
        let parse = project.function_id(0, function_named(facts, "parse"));
        assert_eq!(
            model
                .instance_assignments(&project)
                .shadowed_in_callers(&project, class, "params", parse),
            shadowed,
            "assignment first: {assign_first}"
        );
    }
}

#[test]
fn what_init_reaches_through_self_calls_and_an_override_is_set_up() {
    // `__init__` -> `_init_db` -> `database_init` (overridden in the subclass) -> `_load`, which
    // binds `self.rows`; `reload` reaches the same `_load`, but only when called.
    let source = |init_calls: &str| {
        format!(
            "class Base:\n    def __init__(self):\n        {init_calls}\n\n    def reload(self):\n        self._init_db()\n\n    def _init_db(self):\n        self.database_init()\n\n    def database_init(self):\n        return False\n\n\nclass Csv(Base):\n    rows = []\n\n    def database_init(self):\n        self._load()\n\n    def _load(self):\n        self.rows = []\n\n    def create(self, row):\n        self.rows.append(row)\n"
        )
    };
    for (init_calls, shadowed) in [("self._init_db()", true), ("pass", false)] {
        let text = source(init_calls);
        let project = link(&[("db/sharing.py", text.as_str())]);
        let model = Model::build(&project);
        let facts = &project.file(0).facts;
        let create = function_named(facts, "create");
        let class = project.method_class(0, create).expect("a method");
        let start = facts.functions[create as usize].span.start;
        assert_eq!(
            model
                .instance_assignments(&project)
                .shadows(&project, class, "rows", 0, create, start),
            shadowed,
            "__init__ does: {init_calls}"
        );
    }
}

#[test]
fn a_wtforms_forms_fields_are_its_own_once_form_init_ran() {
    // (the form's `__init__`, the function the write is in, whether the field is its own there)
    let cases = [
        ("", "refresh", true),
        (
            "super().__init__()\n        self.title.hint = 1",
            "__init__",
            true,
        ),
        (
            "self.title.hint = 1\n        super().__init__()",
            "__init__",
            false,
        ),
        ("self.title.hint = 1", "__init__", false),
    ];
    for (init, function, own) in cases {
        let init = if init.is_empty() {
            String::new()
        } else {
            format!("    def __init__(self):\n        {init}\n\n")
        };
        let text = format!(
            "from wtforms import Form, StringField\n\n\nclass TitleField(StringField):\n    pass\n\n\nclass PageForm(Form):\n{init}    def refresh(self):\n        self.title.hint = 2\n\n    title = TitleField()\n"
        );
        let project = link(&[("web/forms.py", text.as_str())]);
        let model = Model::build(&project);
        let facts = &project.file(0).facts;
        let write = facts
            .attribute_assignments
            .iter()
            .find(|a| a.attr == "hint" && a.function == function_named(facts, function))
            .expect("the write");
        let class = project.method_class(0, write.function).expect("a method");
        assert_eq!(
            model.instance_assignments(&project).shadows(
                &project,
                class,
                "title",
                0,
                write.function,
                write.span.start
            ),
            own,
            "{init} / {function}"
        );
    }
}

#[test]
fn a_global_handed_to_a_method_of_a_module_level_instance_is_changed_where_it_is_passed_on() {
    let project = link(&[
        (
            "lib/http.py",
            "class Client:\n    def call(self, headers=None):\n        return self._prepare(headers)\n\n    def _prepare(self, headers):\n        headers['Content-Type'] = 'json'\n        return headers\n",
        ),
        (
            "svc/runs.py",
            "from lib.http import Client\n\nclient = Client()\nTRACE = {'X-Trace': '1'}\nREGISTRY = {}\n\n\ndef start():\n    return client.call(headers=TRACE)\n\n\nclient.call(headers=REGISTRY)\n",
        ),
    ]);
    let model = Model::build(&project);
    // The call made while the module loads hands `REGISTRY` to no per-call parameter.
    assert_eq!(
        paths_changed(&model, Through::Parameter),
        ["svc.runs.TRACE"]
    );
}

#[test]
fn set_up_code_that_runs_at_import_creates_once_and_dict_items_reach_parameters() {
    let project = link(&[
        (
            "app/net.py",
            "class Http:\n    def __init__(self, config):\n        self.headers = config[\"headers\"]\n        self.other = config[\"other\"]\n\n    def send(self, extra):\n        self.headers.update(extra)\n        self.other.update(extra)\n\n\nclass Executor:\n    def __init__(self):\n        self.headers = {}\n        self.http = Http({\"headers\": self.headers})\n\n\nclass Fresh:\n    def __init__(self):\n        self.items = []\n",
        ),
        (
            "app/main.py",
            "from app.net import Executor, Fresh\n\nexecutor = Executor()\n\n\ndef view():\n    return Fresh()\n",
        ),
    ]);
    let model = Model::build(&project);
    let object = model
        .objects()
        .iter()
        .find(|o| o.path == "app.net.Executor.__init__.<self.headers>")
        .expect("the dict the import-time `__init__` stores is an object");
    assert_eq!(object.lifetime, Lifetime::Once);
    assert!(matches!(object.origin, Origin::ImportTimeField(_)));
    // `Fresh.__init__` runs per call: what it stores is no object of the model.
    assert!(!model.objects().iter().any(|o| o.path.contains("Fresh")));
    // The item under `headers` reaches `Http.headers`; the one under `other` holds nothing.
    let changes: Vec<String> = model
        .changes()
        .iter()
        .filter(|c| {
            c.objects.contains(
                &model
                    .objects()
                    .iter()
                    .position(|o| o.path == object.path)
                    .map(|i| super::ObjectId(i as u32))
                    .expect("its id"),
            )
        })
        .map(|c| {
            let facts = &project.file(c.file).facts;
            facts.mutations[match c.site {
                super::ChangeSite::Mutation(i) => i as usize,
                super::ChangeSite::CallResult(_) => unreachable!("no call results here"),
            }]
            .target
            .display()
        })
        .collect();
    assert_eq!(changes, vec!["self.headers".to_string()]);
    let held = model.points_to(&Location::Field(
        project.class_id(
            project
                .files
                .iter()
                .position(|f| f.module == "app.net")
                .expect("net") as u32,
            0,
        ),
        "headers".into(),
    ));
    assert_eq!(held.len(), 1);
}
