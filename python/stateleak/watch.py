"""Snapshots of the state a process keeps between requests or tests, and their differences.

A snapshot records, for every watched object, its identity, type, size and a cheap fingerprint of
its contents a few levels deep; containers also keep their keys (or length) at the top level so
that a difference can say which keys were added, removed or changed. Nothing is deep-copied.
"""

from __future__ import annotations

import logging
import os
import sys
import types
import warnings
from collections import defaultdict
from collections import deque as collections_deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stateleak import dictwatch
from stateleak.saferepr import safe_repr

# How far into nested containers a fingerprint looks, and how many items per container.
FINGERPRINT_DEPTH = 3
FINGERPRINT_ITEMS = 200
# Containers with more items than this keep no per-key record, only length and fingerprint.
KEYED_ITEMS_LIMIT = 10_000

# Objects with a `__dict__` whose fingerprint is their identity all the same.
_IDENTITY_TYPES = (
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
    property,
    staticmethod,
    classmethod,
)
_SCALARS = (int, float, complex, str, bytes, bool, type(None))
_INSTALL_DIR_MARKERS = ("site-packages", "dist-packages")


# Dicts whose every change goes through the dict operations a watcher sees (an OrderedDict can
# reorder without them).
_WATCHABLE_DICTS = (dict, defaultdict)


@dataclass
class Reads:
    """What a fingerprint looked at that can change in place: the dicts (each can be watched),
    and whether it also read a container that cannot be (a list, set or deque)."""

    dicts: list[dict[Any, Any]] = field(default_factory=list)
    unwatchable: bool = False
    # Instances whose `__dict__` was read: rebinding it or `__class__` tells no watcher.
    instances: list[tuple[Any, dict[Any, Any], type]] = field(default_factory=list)

    def container(self, value: Any) -> None:
        if type(value) in _WATCHABLE_DICTS:
            self.dicts.append(value)
        elif isinstance(value, (dict, list, set, collections_deque)):
            self.unwatchable = True  # a subclass may change without telling a dict watcher


def fingerprint(value: Any, depth: int = FINGERPRINT_DEPTH, reads: Reads | None = None) -> int:
    """A hash of a value's contents that changes when they change, for the first few levels."""
    if isinstance(value, _SCALARS):
        return hash((type(value), value))
    if reads is not None:
        reads.container(value)
    if depth <= 0:
        return hash((type(value), id(value), _size(value)))
    if isinstance(value, dict):
        items = _first(value.items())
        return hash((dict, len(value), tuple((_key_hash(k), fingerprint(v, depth - 1, reads)) for k, v in items)))
    if isinstance(value, (list, tuple, collections_deque)):
        return hash((type(value), len(value), tuple(fingerprint(v, depth - 1, reads) for v in _first(value))))
    if isinstance(value, (set, frozenset)):
        return hash((type(value), len(value), frozenset(_key_hash(v) for v in _first(value))))
    if isinstance(value, (types.FunctionType, types.ModuleType, type)):
        return hash((type(value), id(value)))
    instance_dict = getattr(value, "__dict__", None)
    if isinstance(instance_dict, dict):
        if reads is not None:
            reads.instances.append((value, instance_dict, type(value)))
        return hash((type(value), id(value), fingerprint(instance_dict, depth - 1, reads)))
    return hash((type(value), id(value)))


def _first(items: Iterable[Any]) -> list[Any]:
    out = []
    for index, item in enumerate(items):
        if index >= FINGERPRINT_ITEMS:
            break
        out.append(item)
    return out


def _key_hash(key: Any) -> int:
    try:
        return hash(key)
    except TypeError:
        return id(key)


def _size(value: Any) -> int | None:
    if isinstance(value, (dict, list, tuple, set, frozenset, collections_deque)):
        return len(value)
    return None


@dataclass(frozen=True)
class Record:
    """What a snapshot keeps of one watched object: references, not copies. `value` is kept only
    to describe a change (and keeps identities from being reused while the snapshot lives)."""

    identity: int
    type_name: str
    size: int | None
    fingerprint: int
    # For dicts: key hash -> (key, fingerprint of the value); for sets: member hash -> (member, 0);
    # for sequences, `items`: the fingerprints of the items.
    keyed: dict[int, tuple[Any, int]] | None = None
    items: tuple[int, ...] | None = None
    value: Any = None


def record(value: Any, by_value: bool = False, reads: Reads | None = None) -> Record:
    """What a snapshot keeps of `value`; `by_value` for a copy made for the snapshot, whose
    identity means nothing. `reads` collects what the record depends on."""
    if reads is not None and not isinstance(value, _SCALARS):
        reads.container(value)
    size = _size(value)
    keyed: dict[int, tuple[Any, int]] | None = None
    items: tuple[int, ...] | None = None
    if size is not None and size <= KEYED_ITEMS_LIMIT:
        if isinstance(value, dict):
            keyed = {_key_hash(k): (k, fingerprint(v, FINGERPRINT_DEPTH - 1, reads)) for k, v in value.items()}
        elif isinstance(value, (set, frozenset)):
            keyed = {_key_hash(k): (k, 0) for k in value}
        else:
            items = tuple(fingerprint(v, FINGERPRINT_DEPTH - 1, reads) for v in value)
    return Record(
        identity=0 if by_value else id(value),
        type_name=type(value).__name__,
        size=size,
        fingerprint=fingerprint(value, reads=reads),
        keyed=keyed,
        items=items,
        value=None if size is not None else value,
    )


@dataclass(frozen=True)
class Change:
    """How one watched object differs between two snapshots."""

    path: str
    kind: str  # "added", "removed", "rebound", "mutated", "lazy-init"
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"object": self.path, "kind": self.kind, "detail": self.detail}


Snapshot = dict[str, Record]

# Stands for a namespace (module or class) in a snapshot: its own names are recorded beside it,
# and it changes only through them.
_NAMESPACE = Record(identity=0, type_name="namespace", size=None, fingerprint=0)


def diff(before: Snapshot, after: Snapshot) -> list[Change]:
    """The changes from `before` to `after`, sorted by object path."""
    changes: list[Change] = []
    for path, new in after.items():
        old = before.get(path)
        if old is new:
            continue  # the same record: a value known by identity, in an unchanged namespace
        if old is None:
            if _owner_existed(path, before):
                changes.append(Change(path, "lazy-init", f"set to {_describe(new)}"))
            # else: in a module imported in between, where nothing existed to change
            continue
        change = _compare(path, old, new)
        if change is not None:
            changes.append(change)
    changes.extend(Change(path, "removed", "deleted") for path in before.keys() - after.keys())
    return sorted(changes, key=lambda change: change.path)


def _owner_existed(path: str, before: Snapshot) -> bool:
    prefix = path
    while "." in prefix:
        prefix = prefix.rsplit(".", 1)[0]
        if prefix in before:
            return True
    return False


def _compare(path: str, old: Record, new: Record) -> Change | None:
    if old.identity != new.identity or old.type_name != new.type_name:
        if old.fingerprint == new.fingerprint and old.type_name == new.type_name and old.size is not None:
            return None  # an equal, fresh container: a restore by rebinding
        if old.type_name == "NoneType":
            return Change(path, "lazy-init", f"rebound from None to {_describe(new)}")
        if (
            old.size is None
            and isinstance(old.value, _SCALARS)
            and type(old.value) is type(new.value)
            and old.value == new.value
        ):
            return None  # an equal scalar, rebound (a container's record keeps no value)
        return Change(path, "rebound", f"rebound: {_describe(old)} -> {_describe(new)}")
    if old.fingerprint == new.fingerprint:
        return None
    return Change(path, "mutated", _mutation(old, new))


def _describe(rec: Record) -> str:
    if rec.size is not None:
        return f"{rec.type_name} of {rec.size}"
    return safe_repr(rec.value)


def _mutation(old: Record, new: Record) -> str:
    if old.keyed is not None and new.keyed is not None:
        added = [safe_repr(new.keyed[k][0]) for k in new.keyed.keys() - old.keyed.keys()]
        removed = [safe_repr(old.keyed[k][0]) for k in old.keyed.keys() - new.keyed.keys()]
        changed = [
            safe_repr(new.keyed[k][0])
            for k in new.keyed.keys() & old.keyed.keys()
            if new.keyed[k][1] != old.keyed[k][1]
        ]
        noun = "item" if old.type_name in ("set", "frozenset") else "key"
        parts = []
        for label, keys in (("added", added), ("removed", removed), ("changed", changed)):
            if keys:
                parts.append(f"{_count(len(keys), noun)} {label}: {_listing(keys)}")
        return "; ".join(parts) or "contents changed"
    if old.items is not None and new.items is not None:
        if len(new.items) > len(old.items) and new.items[: len(old.items)] == old.items:
            return f"{_count(len(new.items) - len(old.items), 'item')} appended"
        if len(new.items) < len(old.items):
            return f"{_count(len(old.items) - len(new.items), 'item')} removed"
        return "items changed"
    if old.size is not None and new.size is not None and old.size != new.size:
        return f"size {old.size} -> {new.size}"
    if old.size is None:
        return "attribute set"
    return "contents changed"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _listing(reprs: list[str], limit: int = 5) -> str:
    reprs = sorted(reprs)
    shown = ", ".join(reprs[:limit])
    return shown + (f", ... ({len(reprs) - limit} more)" if len(reprs) > limit else "")


@dataclass
class _Plan:
    """What to record in one namespace while the names in it stay bound to the same values."""

    signature: tuple[int, ...]
    fixed: dict[str, Record]  # values known by identity alone (scalars, functions, tuples of them)
    nested: list[tuple[str, type, dict[str, Any] | None]]  # classes defined here, with their dicts
    mutable: list[tuple[str, Any]]  # values whose contents can change
    # Whether a dict watcher has watched the namespace since before the plan was last checked:
    # then an unchanged namespace needs no new signature.
    watched: bool = False


@dataclass
class _Kept:
    """A record of a value, kept while nothing it was computed from is seen to change."""

    value: Any
    record: Record
    dicts: list[dict[Any, Any]]  # keeps the watched dicts alive, so their addresses stay theirs
    addresses: frozenset[int]
    instances: list[tuple[Any, dict[Any, Any], type]]

    def holds(self, value: Any, changed: set[int]) -> bool:
        return value is self.value and changed.isdisjoint(self.addresses) and self.instances_hold()

    def instances_hold(self) -> bool:
        return all(getattr(obj, "__dict__", None) is d and type(obj) is t for obj, d, t in self.instances)


@dataclass
class Watcher:
    """Takes snapshots of the project's modules and of process state.

    `root` bounds the project: modules whose file is under it, and not in an installation
    directory, are the project's own. `extra` names objects to watch by import path (from the
    static analysis), wherever they live. What to record in each namespace is planned once and
    re-planned only when a name in it is bound, rebound or deleted; values whose record depends on
    their identity alone are recorded when planned. Where dict watchers exist (CPython 3.12+), a
    namespace or a value whose dicts did not change since the last snapshot keeps its records
    without being read again; lists, sets and deques are fingerprinted every time.
    """

    root: Path
    extra: Iterable[str] = ()
    # This package and pytest's own, should they live under the root (a checkout of either).
    ignore_modules: tuple[str, ...] = ("stateleak", "_pytest", "pytest")
    _module_files: dict[str, bool] = field(default_factory=dict)
    # Classes not to walk: the plugin leaves out test classes (their own attributes are the test
    # framework's bookkeeping, and there are hundreds of them).
    skip_class: Callable[[type], bool] = lambda cls: False
    _plans: dict[str, _Plan] = field(default_factory=dict)
    _modules_seen: int = -1
    _process_copies: dict[str, tuple[Any, Record]] = field(default_factory=dict)
    _own_modules: list[tuple[str, types.ModuleType]] = field(default_factory=list)
    _kept: dict[str, _Kept] = field(default_factory=dict)
    _changed: set[int] = field(default_factory=set)
    # The last walk of the modules, when all of it came from watched dicts alone (`_all_kept`):
    # until one of them changes or a module is imported, the next walk would give the same.
    _stable_walk: Snapshot | None = None
    _stable_modules: list[tuple[str, types.ModuleType]] | None = None
    _all_kept: bool = False
    # The kept records of that walk that read instances' `__dict__`: checked before it is reused.
    _instance_reads: list[_Kept] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._dicts = dictwatch.subscribe(self, str(self.root) + os.sep)
        self._dict_writers: dict[int, tuple[str, int]] = {}
        # The dicts each object's last record read (kept alive by the watched values' plans).
        self._read_dicts: dict[str, frozenset[int]] = {}
        # Where the changes found by the last snapshot were made, by object path (or by the
        # namespace a name was bound in); see `writer_of`.
        self._writers: dict[str, tuple[str, int]] = {}

    def writer_of(self, path: str) -> str | None:
        """`file:line` of the code that changed `path` before the last snapshot, where a dict
        watcher saw it (CPython 3.12+: dicts, module and class namespaces); else None."""
        where = self._writers.get(path) or self._writers.get(path.rsplit(".", 1)[0] + ".*")
        return f"{os.path.relpath(where[0])}:{where[1]}" if where else None

    def _note_writer(self, key: str, addresses: Iterable[int]) -> None:
        for address in addresses:
            where = self._dict_writers.get(address)
            if where is not None:
                self._writers[key] = where
                return

    def snapshot(self) -> Snapshot:
        self._writers = {}
        if self._dicts is not None:
            # Taken first: a change made while this snapshot is taken counts for the next one.
            self._changed, self._dict_writers = self._dicts.changed()
        modules = self._project_modules()
        if (
            self._stable_walk is not None
            and not self._changed
            and modules is self._stable_modules
            and all(kept.instances_hold() for kept in self._instance_reads)
        ):
            snap = dict(self._stable_walk)
        else:
            snap = self._walk_modules(modules)
        snap.update(process_state(self._process_copies))
        return snap

    def _walk_modules(self, modules: list[tuple[str, types.ModuleType]]) -> Snapshot:
        self._all_kept = self._dicts is not None
        self._instance_reads = []
        snap: Snapshot = {}
        for name, module in modules:
            snap[name] = _NAMESPACE
            self._walk(name, vars(module), snap, name, vars(module))
        for path in self.extra:
            if path in snap:
                continue  # the walk recorded it
            # Found outside the project's modules (or not yet found): nothing watches its way.
            self._all_kept = False
            found, value = resolve(path)
            if found:
                snap[path] = self._record(path, value)
        self._stable_walk, self._stable_modules = (dict(snap), modules) if self._all_kept else (None, None)
        return snap

    def _walk(
        self, prefix: str, namespace: Mapping[str, Any], snap: Snapshot, module: str, own: dict[str, Any] | None
    ) -> None:
        """`own`: the dict behind `namespace` (a class's `vars` is a proxy), when it can be had."""
        plan = self._plans.get(prefix)
        if own is not None and id(own) in self._changed:
            self._note_writer(prefix + ".*", [id(own)])
        if plan is None or not (plan.watched and id(own) not in self._changed):
            # The ids of the bound values change when a name is bound or rebound; the plan keeps
            # references to every value it watches, so none of those ids can be reused meanwhile.
            self._all_kept = False
            signature = tuple(map(id, namespace.values()))
            if plan is None or plan.signature != signature:
                plan = self._plans[prefix] = _plan(prefix, namespace, module, signature, self.skip_class)
            plan.watched = self._dicts is not None and own is not None and self._dicts.watch(own)
        snap.update(plan.fixed)
        for path, nested, nested_own in plan.nested:
            snap[path] = _NAMESPACE
            self._walk(path, vars(nested), snap, module, nested_own)
        for path, value in plan.mutable:
            snap[path] = self._record(path, value)

    def _record(self, path: str, value: Any) -> Record:
        kept = self._kept.get(path)
        if kept is not None and kept.holds(value, self._changed):
            if kept.instances:
                self._instance_reads.append(kept)
            return kept.record
        self._all_kept = False
        if self._dicts is None:
            return record(value)
        self._note_writer(path, sorted(self._read_dicts.get(path, frozenset()) & self._changed))
        reads = Reads()
        result = record(value, reads=reads)
        self._read_dicts[path] = frozenset(map(id, reads.dicts))
        # Kept only if every dict read was watched before it was read: a change in between
        # would otherwise go unseen. A dict newly watched now is read again next time.
        watched_before = [self._dicts.watch(d) for d in reads.dicts]
        if not reads.unwatchable and all(watched_before):
            self._kept[path] = _Kept(value, result, reads.dicts, frozenset(map(id, reads.dicts)), reads.instances)
        else:
            self._kept.pop(path, None)
        return result

    def _project_modules(self) -> list[tuple[str, types.ModuleType]]:
        # Rescanned only when modules were imported or removed since the last snapshot.
        if len(sys.modules) != self._modules_seen:
            self._modules_seen = len(sys.modules)
            self._own_modules = [
                (name, module)
                for name, module in list(sys.modules.items())
                if module is not None and self._is_project_module(name, module)
            ]
        return self._own_modules

    def _is_project_module(self, name: str, module: types.ModuleType) -> bool:
        known = self._module_files.get(name)
        if known is not None:
            return known
        own = False
        filename = getattr(module, "__file__", None)
        package = name.partition(".")[0]
        if filename and package not in self.ignore_modules:
            path = os.path.abspath(filename)
            own = path.startswith(str(self.root) + os.sep) and not any(
                marker in path for marker in _INSTALL_DIR_MARKERS
            )
        self._module_files[name] = own
        return own


def _plan(
    prefix: str,
    namespace: Mapping[str, Any],
    module: str,
    signature: tuple[int, ...],
    skip_class: Callable[[type], bool],
) -> _Plan:
    plan = _Plan(signature, {}, [], [])

    def watch(path: str, value: Any) -> None:
        if _known_by_identity(value):
            plan.fixed[path] = record(value)
        else:
            plan.mutable.append((path, value))

    for attr, value in list(namespace.items()):
        if attr.startswith("__") and attr.endswith("__") and not isinstance(value, types.FunctionType):
            continue
        path = f"{prefix}.{attr}"
        if isinstance(value, types.ModuleType):
            continue
        if isinstance(value, type):
            defined_here = getattr(value, "__module__", None) == module
            if defined_here and value.__qualname__ == _qualname(prefix, module, attr) and not skip_class(value):
                plan.nested.append((path, value, dictwatch.class_namespace(value)))
            continue
        function = _function_of(value)
        if function is not None:
            if getattr(function, "__module__", None) == module:
                for name, default in _defaults(function):
                    watch(f"{path}.<default {name}>", default)
            continue
        watch(path, value)
    return plan


def _known_by_identity(value: Any, depth: int = 2) -> bool:
    """Whether nothing about `value` can change but what it is bound to."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (tuple, frozenset)):
        return depth > 0 and len(value) <= FINGERPRINT_ITEMS and all(_known_by_identity(v, depth - 1) for v in value)
    if isinstance(value, (dict, list, set, collections_deque)):
        return False
    return not hasattr(value, "__dict__") or isinstance(value, _IDENTITY_TYPES)


def _qualname(prefix: str, module: str, attr: str) -> str:
    inside = prefix[len(module) + 1 :]
    return f"{inside}.{attr}" if inside else attr


def _function_of(value: Any) -> types.FunctionType | None:
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return value if isinstance(value, types.FunctionType) else None


def _defaults(function: types.FunctionType) -> list[tuple[str, Any]]:
    """The mutable default values of `function`, by parameter name."""
    code = function.__code__
    defaults = function.__defaults__ or ()
    positional = code.co_varnames[: code.co_argcount]
    named = list(zip(positional[len(positional) - len(defaults) :], defaults))
    named += list((function.__kwdefaults__ or {}).items())
    return [(name, value) for name, value in named if not isinstance(value, _SCALARS)]


def process_state(previous: dict[str, tuple[Any, Record]] | None = None) -> Snapshot:
    """The process-wide state tests commonly leave changed. With `previous` (the copies and
    records of the last call), a part equal to its last copy keeps its last record. The copies
    are cheap (made and compared in C); a readable record is made only of a part that changed."""
    copies: dict[str, Any] = {
        "os.environ": _environ_copy(),
        "sys.path": list(sys.path),
        "os.getcwd()": _cwd(),
        "warnings.filters": list(warnings.filters),
    }
    loggers: list[tuple[str, logging.Logger]] = [("root", logging.getLogger())]
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            loggers.append((name, logger))
    for name, logger in loggers:
        state = (logger.level, tuple(id(h) for h in logger.handlers if not _is_pytest_capture(h)))
        if name == "root" or state != (logging.NOTSET, ()):
            copies[f"logging.getLogger({name!r})"] = state
    snap: Snapshot = {}
    for path, copy in copies.items():
        last = previous.get(path) if previous is not None else None
        if last is not None and last[0] == copy:
            snap[path] = last[1]
        else:
            snap[path] = record(_readable(path, copy), by_value=True)
            if previous is not None:
                previous[path] = (copy, snap[path])
    return snap


# Set by pytest around every phase of every test.
_PYTEST_CURRENT_TEST = "PYTEST_CURRENT_TEST"


def _environ_copy() -> dict[Any, Any]:
    # The encoded mapping behind os.environ copies without decoding every item.
    raw = getattr(os.environ, "_data", None)
    encode = getattr(os.environ, "encodekey", None)
    if not isinstance(raw, dict) or encode is None:
        return {k: v for k, v in os.environ.items() if k != _PYTEST_CURRENT_TEST}
    copy = dict(raw)
    copy.pop(encode(_PYTEST_CURRENT_TEST), None)
    return copy


def _readable(path: str, copy: Any) -> Any:
    if path == "os.environ" and copy and isinstance(next(iter(copy)), bytes):
        return {os.environ.decodekey(k): os.environ.decodevalue(v) for k, v in copy.items()}
    if path == "warnings.filters":
        # pytest re-adds equal filters around every test: compared by value, one hash each.
        return [_key_hash(entry) for entry in copy]
    return copy


def _is_pytest_capture(handler: logging.Handler) -> bool:
    # pytest's own capture handlers come and go around every phase of every test.
    return type(handler).__module__.startswith("_pytest")


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "<deleted>"


def resolve(path: str) -> tuple[bool, Any]:
    """The object an import path names (`pkg.mod.Class.attr`, `pkg.mod.func.<default name>`)."""
    parts = path.split(".")
    default = None
    if parts and parts[-1].startswith("<default ") and parts[-1].endswith(">"):
        default = parts.pop()[len("<default ") : -1]
    for split in range(len(parts), 0, -1):
        module = sys.modules.get(".".join(parts[:split]))
        if module is None:
            continue
        value: Any = module
        try:
            for attr in parts[split:]:
                value = vars(value)[attr] if isinstance(value, type) and attr in vars(value) else getattr(value, attr)
        except (AttributeError, KeyError):
            return False, None
        if default is not None:
            return _default_value(value, default)
        return True, value
    return False, None


def _default_value(value: Any, name: str) -> tuple[bool, Any]:
    function = _function_of(value)
    for parameter, default in _defaults(function) if function is not None else []:
        if parameter == name:
            return True, default
    return False, None


def assign(path: str, value: Any) -> bool:
    """Puts `value` back at `path`: in place for containers (other holders see it), else rebinds."""
    found, current = resolve(path)
    if found and type(current) is type(value) and current is not value:
        if isinstance(current, dict):
            current.clear()
            current.update(value)
            return True
        if isinstance(current, (list, collections_deque)):
            current.clear()
            current.extend(value)
            return True
        if isinstance(current, set):
            current.clear()
            current.update(value)
            return True
    if path == "os.environ":
        os.environ.clear()
        os.environ.update(value)
        return True
    if path == "sys.path":
        sys.path[:] = value
        return True
    parts = path.split(".")
    for split in range(len(parts) - 1, 0, -1):
        owner_found, owner = resolve(".".join(parts[:split]))
        if owner_found and split == len(parts) - 1:
            setattr(owner, parts[-1], value)
            return True
    return False
