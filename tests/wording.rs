//! The words of findings whose subject is easy to misname: the class that does a change, and
//! the classes a `cls` write reaches; and the fix a finding advises, which depends on how the
//! class makes its instances.

mod common;

use common::{stateleak, write};

fn concise(files: &[(&str, &str)]) -> String {
    full(files, &["--output-format", "concise"])
        .trim()
        .to_string()
}

#[test]
fn a_subclass_method_that_changes_the_base_attribute_is_named_with_its_class() {
    let out = concise(&[(
        "app/handlers.py",
        "class Handler:\n    seen = []\n\n\nclass PingHandler(Handler):\n    def handle(self, request):\n        self.seen.append(request)\n",
    )]);
    assert_eq!(
        out,
        "app/handlers.py:7:9: SL101 `seen` is one list shared by every `Handler`; `PingHandler.handle` writes into it through `self`"
    );
}

#[test]
fn a_mixin_method_is_named_with_the_class_that_uses_the_mixin() {
    let out = concise(&[(
        "app/views.py",
        "class Base:\n    seen = []\n\n\nclass Recording:\n    def record(self, item):\n        self.seen.append(item)\n\n\nclass View(Base, Recording):\n    pass\n",
    )]);
    assert!(
        out.contains("`seen` is one list shared by every `Base`; `View.record`"),
        "{out}"
    );
}

#[test]
fn a_method_of_the_defining_class_is_named_alone() {
    let out = concise(&[(
        "app/leak.py",
        "class Remixer:\n    _cache = {}\n\n    def remix(self, key):\n        self._cache[key] = 1\n",
    )]);
    assert!(
        out.ends_with("`remix` writes into it through `self`"),
        "{out}"
    );
}

#[test]
fn a_classmethod_setting_through_cls_reaches_each_subclass() {
    let out = concise(&[(
        "app/config.py",
        "class Config:\n    @classmethod\n    def use(cls, request):\n        cls.current = request.user\n",
    )]);
    assert!(
        out.contains("sets `current` on class `Config` or each subclass it runs for on every call"),
        "{out}"
    );
}

#[test]
fn a_set_under_a_test_is_not_told_as_made_on_every_call() {
    // kombu's `if self._n_channels.inc() == 1: Channel._extender = ...` runs on the calls that
    // find no other channel open, not on every call.
    let out = concise(&[(
        "app/channel.py",
        "class Channel:\n    _extender = None\n\n    def open(self, count):\n        if count == 1:\n            Channel._extender = object()\n",
    )]);
    assert!(
        out.ends_with("`open` sets `_extender` on class `Channel` on the calls that reach it"),
        "{out}"
    );
}

#[test]
fn a_set_after_an_early_return_is_not_told_as_made_on_every_call() {
    let out = concise(&[(
        "app/busy.py",
        "class Busy:\n    _owner = None\n\n    @classmethod\n    def run(cls, job):\n        if job is None:\n            return False\n        cls._owner = job\n        return True\n",
    )]);
    assert!(out.ends_with("on the calls that reach it"), "{out}");
    assert!(!out.contains("on every call"), "{out}");
}

#[test]
fn a_set_inside_a_short_circuit_or_a_comprehension_is_not_told_as_made_on_every_call() {
    for body in [
        "        flag and setattr(Registry, 'last', key)\n",
        "        [setattr(Registry, 'last', k) for k in keys]\n",
        "        setattr(Registry, 'last', key) if flag else None\n",
    ] {
        let out = concise(&[(
            "app/registry.py",
            &format!(
                "class Registry:\n    last = None\n\n    def put(self, key, keys, flag):\n{body}"
            ),
        )]);
        assert!(out.ends_with("on the calls that reach it"), "{body}: {out}");
    }
}

#[test]
fn a_set_after_a_generators_first_yield_is_not_told_as_made_on_every_call() {
    // The consumer of a generator may stop before it asks for the next item; a `finally` around
    // the `yield` still runs then.
    for (body, every_call) in [
        ("        Feed.last = key\n        yield key\n", true),
        ("        yield key\n        Feed.last = key\n", false),
        ("        yield from keys\n        Feed.last = key\n", false),
        // Closing the generator at the `yield` runs the `finally` (a `@contextmanager`'s exit).
        (
            "        try:\n            yield key\n        finally:\n            Feed.last = key\n",
            true,
        ),
        (
            "        try:\n            if key:\n                return\n            yield key\n        finally:\n            Feed.last = key\n",
            true,
        ),
        // A `try` entered only after a `yield` is not entered on every call.
        (
            "        yield key\n        try:\n            pass\n        finally:\n            Feed.last = key\n",
            false,
        ),
        (
            "        try:\n            yield key\n        finally:\n            if key:\n                return\n        Feed.last = key\n",
            false,
        ),
        (
            "        try:\n            yield key\n        finally:\n            pass\n        Feed.last = key\n",
            false,
        ),
    ] {
        let out = concise(&[(
            "app/feed.py",
            &format!("class Feed:\n    last = None\n\n    def items(self, key, keys):\n{body}"),
        )]);
        let words = if every_call {
            "`items` sets `last` on class `Feed` on every call"
        } else {
            "`items` sets `last` on class `Feed` on the calls that reach it"
        };
        assert!(out.ends_with(words), "{body}: {out}");
    }
}

#[test]
fn a_class_handed_over_under_a_test_is_not_told_as_handed_on_every_call() {
    let helper = "def configure(klass, value):\n    setattr(klass, \"value\", value)\n";
    for (body, every_call) in [
        ("        configure(cls, value)\n", true),
        (
            "        if flag:\n            configure(cls, value)\n",
            false,
        ),
    ] {
        let out = concise(&[(
            "app/widget.py",
            &format!(
                "{helper}\n\nclass Widget:\n    @classmethod\n    def use(cls, value, flag):\n{body}"
            ),
        )]);
        let words = if every_call {
            "`use` hands class `Widget` to `configure`, which sets attributes on it, on every call"
        } else {
            "`use` hands class `Widget` to `configure`, which sets attributes on it, on the calls that reach it"
        };
        assert!(out.contains(words), "{body}: {out}");
        assert_eq!(out.contains("on every call"), every_call, "{body}: {out}");
    }
}

#[test]
fn a_change_in_a_loop_is_labelled_without_every_call() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "app/remix.py",
        "class Remixer:\n    _cache = {}\n\n    def remix(self, song):\n        for key in song:\n            self._cache[key] = len(song)\n\n    def put(self, key):\n        self._cache[key] = 1\n",
    );
    let output = stateleak(dir.path(), &["check", "--no-cache", "--isolated", "."]);
    let out = String::from_utf8_lossy(&output.stdout);
    // Line 6 (in the loop) is labelled "written here"; line 9 (the whole body) "on every call".
    assert!(out.contains("^^^ written here\n"), "{out}");
    assert!(out.contains("^^^ written here, on every call\n"), "{out}");
}

#[test]
fn a_global_changed_through_a_parameter_is_changed_on_the_requests_that_hand_it_over() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "lib/http.py",
        "class Client:\n    def call(self, headers=None):\n        return self._prepare(headers)\n\n    def _prepare(self, headers):\n        headers['Content-Type'] = 'json'\n        return headers\n",
    );
    write(
        dir.path(),
        "svc/app.py",
        "from flask import Flask\nfrom lib.http import Client\n\napp = Flask(__name__)\nclient = Client()\nTRACE = {'X-Trace': '1'}\n\n\n@app.route('/')\ndef start():\n    return client.call(headers=TRACE)\n",
    );
    let output = stateleak(dir.path(), &["check", "--no-cache", "--isolated", "."]);
    let out = String::from_utf8_lossy(&output.stdout);
    // The function changes whatever its caller hands it, so not every call changes the global.
    assert!(
        out.contains("changed here through `headers`, on each request that hands it `TRACE`"),
        "{out}"
    );
    assert!(!out.contains("on every request"), "{out}");
}

/// The help line of the one finding on a configuration class whose `headers` field holds a
/// project object, which a view changes through an instance; `config` is the class's module.
fn help_for_config(config: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "app/headers.py",
            "class Headers:\n    def __init__(self):\n        self.items = {}\n\n    def add(self, name, value):\n        self.items[name] = value\n",
        ),
        ("app/config.py", config),
        (
            "app/views.py",
            "from app.config import Config\n\n\ndef handle(name):\n    config = Config()\n    config.headers.add(name, 1)\n",
        ),
    ];
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    let output = stateleak(dir.path(), &["check", "--no-cache", "--isolated", "."]);
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    text.lines()
        .find_map(|line| line.trim().strip_prefix("= help: "))
        .unwrap_or_else(|| panic!("no help line in:\n{text}"))
        .to_string()
}

#[test]
fn a_dataclass_field_is_told_to_take_a_default_factory() {
    let help = help_for_config(
        "from dataclasses import dataclass\n\nfrom app.headers import Headers\n\n\n@dataclass\nclass Config:\n    headers: Headers = Headers()\n",
    );
    assert!(
        help.starts_with("give the field a factory, `field(default_factory=...)`"),
        "{help}"
    );
}

#[test]
fn an_attrs_field_is_told_to_take_a_factory() {
    let help = help_for_config(
        "import attrs\n\nfrom app.headers import Headers\n\n\n@attrs.define\nclass Config:\n    headers: Headers = Headers()\n",
    );
    assert!(
        help.starts_with("give the field a factory, `attrs.field(factory=...)`"),
        "{help}"
    );
}

#[test]
fn a_plain_class_attribute_is_told_to_move_into_init() {
    let help = help_for_config(
        "from app.headers import Headers\n\n\nclass Config:\n    headers: Headers = Headers()\n",
    );
    assert!(
        help.starts_with("create it per instance in `__init__`"),
        "{help}"
    );
}

/// The whole text output of `check` on `files`, with `extra` arguments.
fn full(files: &[(&str, &str)], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        write(dir.path(), path, text);
    }
    let mut args = vec!["check", "--no-cache", "--isolated"];
    args.extend_from_slice(extra);
    args.push(".");
    let output = stateleak(dir.path(), &args);
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn growth_under_a_test_is_not_told_as_growth_on_every_call() {
    let grows = |body: &str| {
        full(
            &[(
                "app/track.py",
                &format!("_seen = []\n\n\ndef track(event):\n{body}    return len(_seen)\n"),
            )],
            &["--select", "SL202"],
        )
    };
    let under_a_test = grows("    if event:\n        _seen.append(event.upper())\n");
    assert!(
        under_a_test.contains("that `track` adds to and nothing ever removes from"),
        "{under_a_test}"
    );
    assert!(under_a_test.contains("grows here\n"), "{under_a_test}");
    assert!(!under_a_test.contains("every call"), "{under_a_test}");
    let always = grows("    _seen.append(event.upper())\n");
    assert!(
        always.contains("that `track` adds to on every call and nothing ever removes from"),
        "{always}"
    );
    assert!(always.contains("grows here, on every call"), "{always}");
}

#[test]
fn a_closure_written_under_a_test_is_written_on_the_calls_that_reach_it() {
    let written = |body: &str| {
        full(
            &[(
                "app/deco.py",
                &format!(
                    "def remember_calls(func):\n    calls = {{}}\n\n    def wrapper(user, *args):\n{body}        return func(user, *args)\n\n    return wrapper\n\n\n@remember_calls\ndef handle(user):\n    return user\n"
                ),
            )],
            &[],
        )
    };
    let under_a_test = written("        if user:\n            calls[user] = args\n");
    assert!(
        under_a_test.contains("writes into `calls` on the calls that reach it"),
        "{under_a_test}"
    );
    assert!(!under_a_test.contains("on every call"), "{under_a_test}");
    let always = written("        calls[user] = args\n");
    assert!(
        always.contains("writes into `calls` on every call"),
        "{always}"
    );
}

#[test]
fn a_change_that_requests_reach_is_not_said_to_happen_on_every_request() {
    // Only the requests of one route reach `save`; others never change `_prefs`.
    let out = full(
        &[
            (
                "store.py",
                "_prefs = {}\n\n\ndef save(user, theme):\n    _prefs[\"current\"] = theme\n",
            ),
            (
                "app.py",
                "from flask import Flask\n\nfrom store import save\n\napp = Flask(__name__)\n\n\n@app.route(\"/prefs\")\ndef set_prefs():\n    save(\"u\", \"dark\")\n    return \"ok\"\n\n\n@app.route(\"/\")\ndef index():\n    return \"hi\"\n",
            ),
        ],
        &[],
    );
    assert!(
        out.contains("changed here, on the requests that reach it"),
        "{out}"
    );
    assert!(!out.contains("on every request"), "{out}");
}

#[test]
fn a_default_changed_only_under_a_test_is_not_changed_on_every_call_that_leaves_it_out() {
    // emmett's `_new_table_sql` (round 20): `primary_keys=[]` gets `append` only on MySQL when it
    // is empty and `clear()` only on other engines; no call that leaves it out makes both.
    let changed = |body: &str| {
        full(
            &[(
                "app/tables.py",
                &format!(
                    "def table_sql(name, keys=[], engine=\"sqlite\"):\n{body}    return name + \",\".join(keys)\n"
                ),
            )],
            &["--select", "SL301"],
        )
    };
    let under_a_test = changed("    if engine == \"mysql\":\n        keys.append(\"id\")\n");
    assert!(
        under_a_test.contains("`table_sql` adds to it"),
        "{under_a_test}"
    );
    assert!(
        under_a_test.contains("changed here, on the calls that leave it out and reach it\n"),
        "{under_a_test}"
    );
    assert!(!under_a_test.contains("on every call"), "{under_a_test}");
    let always = changed("    keys.append(\"id\")\n");
    assert!(
        always.contains("changed here, on every call that leaves it out\n"),
        "{always}"
    );
}

#[test]
fn a_default_objects_own_update_is_told_as_a_change_not_an_addition() {
    // girder's `progress=noProgress` built `ProgressContext(on=True)` (round 41): the call runs
    // the class's own `update`, an attribute's `+=`, not a dict's `update`.
    let out = concise(&[
        (
            "app/progress.py",
            "class ProgressContext:\n    def __init__(self, on):\n        self.on = on\n        self.done = 0\n\n    def update(self, increment=1):\n        if not self.on:\n            return\n        self.done += increment\n\n\nnoProgress = ProgressContext(on=True)\n",
        ),
        (
            "app/models.py",
            "from app.progress import noProgress\n\n\ndef set_access(doc, progress=noProgress):\n    progress.update(increment=1)\n    return doc\n",
        ),
        (
            "app/views.py",
            "from app.models import set_access\n\n\ndef share(request):\n    return set_access(request.doc)\n",
        ),
    ]);
    assert_eq!(
        out,
        "app/models.py:5:5: SL301 `progress` defaults to the module-level ProgressContext `noProgress`; `set_access` changes it"
    );
}

#[test]
fn a_change_written_through_a_subclass_name_names_the_subclass() {
    let out = concise(&[
        ("app/__init__.py", ""),
        (
            "app/transport.py",
            "class TransportBase:\n    supported = [\"none\"]\n\n\nclass ClientTransport(TransportBase):\n    pass\n",
        ),
        (
            "app/views.py",
            "from app.transport import ClientTransport\n\n\ndef compress(request):\n    ClientTransport.supported[0:1] = [request.args[\"method\"]]\n",
        ),
    ]);
    assert!(
        out.contains(
            "`supported` is one list held by class `TransportBase`; `compress` writes into it through `ClientTransport`"
        ),
        "{out}"
    );
}

#[test]
fn a_class_attribute_set_through_self_class_is_read_from_each_instances_own_class() {
    let out = full(
        &[(
            "app/client.py",
            "class Protocol:\n    pass\n\n\nclass ClientMixin:\n    _protoBase = None\n\n    def __init__(self, account):\n        for base in self.__class__.__bases__:\n            if issubclass(base, Protocol):\n                self.__class__._protoBase = base\n                break\n        self.account = account\n",
        )],
        &["--select", "SL102"],
    );
    assert!(
        out.contains("set on this class or on the subclass the code runs for"),
        "{out}"
    );
    assert!(
        !out.contains("every instance without a value of its own reads it from this class"),
        "{out}"
    );
}

#[test]
fn a_change_group_with_a_write_through_cls_does_not_name_only_the_subclass_written() {
    // `cls` is `Other` at run time: naming only `Sub`, which one line writes through, is false.
    let out = concise(&[(
        "app/m.py",
        "class Base:\n    items = []\n\n    @classmethod\n    def add(cls, request):\n        Sub.items.append(request.args[\"b\"])\n        cls.items.append(request.args[\"a\"])\n\n\nclass Sub(Base):\n    pass\n\n\nclass Other(Base):\n    pass\n\n\ndef handler(request):\n    Other.add(request)\n",
    )]);
    assert!(
        out.contains("`items` is one list held by class `Base`"),
        "{out}"
    );
    assert!(!out.contains("through `Sub`"), "{out}");
}

#[test]
fn a_change_of_an_object_a_class_level_dict_holds_is_not_told_as_a_write_into_the_dict() {
    let out = concise(&[(
        "app/registry.py",
        "class Registry:\n    groups = {}\n\n    @classmethod\n    def join(cls, name, member):\n        cls.groups[name].append(member)\n",
    )]);
    assert_eq!(
        out,
        "app/registry.py:6:9: SL102 `groups` is one dict held by class `Registry`; `join` writes into an object it holds through the class"
    );
}

#[test]
fn a_declared_value_own_method_is_told_as_a_call_on_that_value_not_a_write_into_the_dict() {
    // justpy 0.14.0 `jpcore/justpy_app.py:184`: `page.update()` is `WebPage.update`, which the
    // proof does not show to leave the page alone (it calls `self.build_list()`), but it is no
    // dict's `update`: the dict itself is not written.
    let out = concise(&[(
        "jpcore/webpage.py",
        "import typing\n\n\nclass WebPage:\n    instances: typing.Dict[int, \"WebPage\"] = {}\n\n    def build_list(self):\n        return [self]\n\n    async def update(self, websocket=None):\n        return self.build_list()\n\n\nasync def handle_event(page_id):\n    page = WebPage.instances[page_id]\n    await page.update()\n",
    )]);
    assert_eq!(
        out,
        "jpcore/webpage.py:16:11: SL102 `instances` is one dict held by class `WebPage`; `handle_event` calls `update` on a `WebPage` it holds (that class's own method, which may change that object) through `WebPage`"
    );
}

#[test]
fn an_augmented_assignment_through_a_local_name_of_a_global_is_not_told_as_a_rebind() {
    // weblate 2026.10.1 `weblate/formats/source_edit.py:64`: `source_formats |= {format_id}`
    // rebinds the local only; on a set it would change the global's set in place. Either way the
    // global is not rebound.
    let out = concise(&[
        ("app/__init__.py", ""),
        (
            "app/formats.py",
            "SOURCE_FORMATS = frozenset({\"po\"})\n\n\ndef editable_fields(format_id, plain):\n    source_formats = SOURCE_FORMATS\n    if plain:\n        source_formats |= {format_id}\n    return format_id in source_formats\n\n\ndef direct(format_id):\n    global SOURCE_FORMATS\n    SOURCE_FORMATS |= {format_id}\n",
        ),
        (
            "app/server.py",
            "from flask import Flask\n\nfrom app.formats import direct, editable_fields\n\napp = Flask(__name__)\n\n\n@app.route(\"/edit/<format_id>\")\ndef edit(format_id):\n    direct(format_id)\n    return str(editable_fields(format_id, True))\n",
        ),
    ]);
    assert_eq!(
        out,
        "app/formats.py:7:9: SL201 `SOURCE_FORMATS` is a module global; `editable_fields`, which requests reach, applies `|=` to its value through a local name, which changes that value in place if it is a mutable container\napp/formats.py:13:5: SL201 `SOURCE_FORMATS` is a module global; `direct`, which requests reach, rebinds it"
    );
}

#[test]
fn a_key_function_reading_kwargs_by_name_is_told_as_using_that_argument() {
    let out = concise(&[(
        "app/traces.py",
        "from cachetools import cached\n\n\n@cached(cache={}, key=lambda **kwargs: kwargs[\"tracking_uri\"])\ndef supports_linking(*, tracking_uri, trace, run_id):\n    return (tracking_uri, trace, run_id)\n",
    )]);
    assert_eq!(
        out,
        "app/traces.py:4:1: SL402 `supports_linking` is memoised by `cached` in a cache every call shares, and its key function uses only `tracking_uri`; the value it returns also depends on `run_id` and `trace`"
    );
}

/// Seen in homeassistant (round 37): `@lru_cache(maxsize=N)` with `N = 7` at module level was
/// told as keeping each instance alive. The bound is told as the module binds it, as
/// `lru_cache`'s default when none is given, and as unknown when the name is bound more than once
/// or the class body binds it too.
#[test]
fn a_cached_method_is_told_with_the_bound_its_cache_has() {
    let out = concise(&[
        (
            "app/locks.py",
            "from functools import lru_cache\n\nfrom app.conf import SIZE\n\nN = 7\n\n\nclass Lock:\n    @lru_cache(maxsize=N)\n    def named(self):\n        return 1\n\n    @lru_cache()\n    def default(self):\n        return 1\n\n    @lru_cache(maxsize=None)\n    def unbounded(self):\n        return 1\n\n    @lru_cache(maxsize=SIZE)\n    def imported(self):\n        return 1\n",
        ),
        ("app/conf.py", "SIZE = 3\n"),
        (
            "app/shadowed.py",
            "from functools import lru_cache\n\nN = 7\n\n\nclass Pool:\n    N = 2\n\n    @lru_cache(maxsize=N)\n    def get(self):\n        return 1\n",
        ),
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "app/locks.py:9:5: SL401 `lru_cache(maxsize=N)` on method `Lock.named` makes one cache for every `Lock`: it keeps the last 7 instances it was called on alive",
            "app/locks.py:13:5: SL401 `lru_cache` on method `Lock.default` makes one cache for every `Lock`: it keeps the last 128 instances it was called on alive (`lru_cache`'s default `maxsize`)",
            "app/locks.py:17:5: SL401 `lru_cache` on method `Lock.unbounded` makes one cache for every `Lock`: it keeps each instance it was called on alive",
            "app/locks.py:21:5: SL401 `lru_cache(maxsize=SIZE)` on method `Lock.imported` makes one cache for every `Lock`: it keeps the instances of its latest calls alive, as many as its `maxsize`",
            "app/shadowed.py:9:5: SL401 `lru_cache(maxsize=N)` on method `Pool.get` makes one cache for every `Pool`: it keeps the instances of its latest calls alive, as many as its `maxsize`",
        ],
        "{out}"
    );
}

#[test]
fn a_first_time_binding_from_the_calls_data_is_told_as_the_first_callers_value() {
    let versions = "VERSIONS = None\n\n\ndef known_versions(version):\n    global VERSIONS\n    if VERSIONS is None:\n        VERSIONS = [version]\n    return VERSIONS\n";
    let middleware = "from app.versions import known_versions\n\n\nclass VersionMiddleware:\n    def __init__(self, app):\n        self.app = app\n\n    def __call__(self, environ, start_response):\n        version = environ[\"PATH_INFO\"]\n        known_versions(version)\n        return self.app(environ, start_response)\n";
    let out = concise(&[
        ("app/__init__.py", ""),
        ("app/versions.py", versions),
        ("app/middleware.py", middleware),
    ]);
    assert_eq!(
        out,
        "app/versions.py:7:9: SL201 `VERSIONS` is a module global; `known_versions`, which requests reach, binds it on the first call that finds it unset, to a value made from that call's `version`: every later call keeps the first caller's value"
    );
    // Another function rebinds it: the first caller's value need not be the one found later.
    let out = concise(&[
        ("app/__init__.py", ""),
        (
            "app/versions.py",
            format!("{versions}\n\ndef reset():\n    global VERSIONS\n    VERSIONS = None\n")
                .as_str(),
        ),
        ("app/middleware.py", middleware),
    ]);
    assert!(
        out.ends_with("to a value made from that call's `version`"),
        "{out}"
    );
    // Another module binds the same name through the module: the same.
    let out = concise(&[
        ("app/__init__.py", ""),
        ("app/versions.py", versions),
        ("app/middleware.py", middleware),
        (
            "app/admin.py",
            "from app import versions\n\n\ndef reset():\n    versions.VERSIONS = None\n",
        ),
    ]);
    assert!(
        out.ends_with("to a value made from that call's `version`"),
        "{out}"
    );
    // A module that took the global by `from ... import` rebinds its own copy only: later calls
    // of `known_versions` still find the first caller's value.
    let out = concise(&[
        ("app/__init__.py", ""),
        ("app/versions.py", versions),
        ("app/middleware.py", middleware),
        (
            "app/admin.py",
            "from app.versions import VERSIONS\n\n\ndef reset():\n    global VERSIONS\n    VERSIONS = None\n",
        ),
    ]);
    assert!(
        out.ends_with("every later call keeps the first caller's value"),
        "{out}"
    );
    // A parameter with a default, which a call may leave out, brings no data of the first call.
    let out = concise(&[
        ("app/__init__.py", ""),
        (
            "app/versions.py",
            "VERSIONS = None\n\n\ndef known_versions(version=None):\n    global VERSIONS\n    if VERSIONS is None:\n        VERSIONS = [version]\n    return VERSIONS\n",
        ),
        ("app/middleware.py", middleware),
    ]);
    assert_eq!(out, "");
}

const ONCE_GUARDED_CACHE: &str = "class UnboundedCache:\n    def __init__(self):\n        cache = {}\n\n        def set_(key, value):\n            cache[key] = value\n\n        self.set = set_\n";

const ENABLE_PACKRAT: &str = "from pp.util import UnboundedCache\n\n\nclass ParserElement:\n    packrat_enabled = False\n    packrat_cache = None\n\n    @staticmethod\n    def enable_packrat():\n        if ParserElement.packrat_enabled:\n            return\n        ParserElement.packrat_enabled = True\n        ParserElement.packrat_cache = UnboundedCache()\n";

#[test]
fn an_object_made_at_the_first_call_of_a_once_guarded_function_is_told_as_made_there() {
    // clearml-agent's vendored pyparsing: the cache `enable_packrat` builds behind its flag.
    let files = [
        ("pp/__init__.py", ""),
        ("pp/util.py", ONCE_GUARDED_CACHE),
        ("pp/core.py", ENABLE_PACKRAT),
    ];
    let out = concise(&files);
    assert!(
        out.contains("SL204 `cache` is one dict for the whole process: `__init__` creates it at the first call of `enable_packrat` (guarded by `ParserElement.packrat_enabled`), and `set_`"),
        "{out}"
    );
    assert!(!out.contains("import"), "{out}");
    let labels = full(&files, &[]);
    assert!(
        labels.contains("created once, at the first call of `enable_packrat` (guarded by `ParserElement.packrat_enabled`), when `__init__` runs"),
        "{labels}"
    );
}

#[test]
fn an_object_a_once_guarded_function_makes_again_after_its_flag_is_cleared_is_not_one_per_process()
{
    let reset = format!(
        "{ENABLE_PACKRAT}\n    @staticmethod\n    def disable_memoization():\n        ParserElement.packrat_enabled = False\n"
    );
    let out = concise(&[
        ("pp/__init__.py", ""),
        ("pp/util.py", ONCE_GUARDED_CACHE),
        ("pp/core.py", &reset),
    ]);
    assert!(!out.contains("SL204"), "{out}");
}

#[test]
fn an_object_a_factory_makes_for_a_module_level_binding_is_told_as_made_at_import() {
    let out = concise(&[
        (
            "app/memo.py",
            "def make_setter():\n    cache = {}\n\n    def set_(key, value):\n        cache[key] = value\n\n    return set_\n\n\nremember = make_setter()\n",
        ),
        (
            "app/views.py",
            "from flask import Flask\n\nfrom app.memo import remember\n\napp = Flask(__name__)\n\n\n@app.get(\"/remember/<key>\")\ndef view(key):\n    remember(key, 1)\n    return \"ok\"\n",
        ),
    ]);
    assert!(
        out.contains("`make_setter` creates it while modules are imported, and `set_`"),
        "{out}"
    );
}
