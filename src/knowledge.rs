//! What stateleak knows about Python and its libraries: the names of mutating methods, mutable
//! types, frameworks that copy class defaults per instance. One table per fact, used by the
//! extractor and the rules alike.

/// Methods that change the object they are called on.
pub const MUTATING_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "remove",
    "pop",
    "popitem",
    "popleft",
    "clear",
    "update",
    "setdefault",
    "add",
    "discard",
    "sort",
    "reverse",
    "appendleft",
    "extendleft",
    "rotate",
    "difference_update",
    "intersection_update",
    "symmetric_difference_update",
    "move_to_end",
    "subtract",
    "__setitem__",
    "__delitem__",
    "__iadd__",
    "__ior__",
];

/// Mutating methods that add to the object (the others remove from or reorder it).
pub const ADDING_METHODS: &[&str] = &[
    "append",
    "extend",
    "insert",
    "update",
    "setdefault",
    "add",
    "appendleft",
    "extendleft",
    "__setitem__",
    "__iadd__",
    "__ior__",
];

/// Methods whose result is an element of the receiver (mutating the result mutates the receiver's
/// contents).
pub const ELEMENT_GETTERS: &[&str] = &["get", "setdefault", "__getitem__"];

/// Methods that return a new copy of the receiver.
pub const COPY_METHODS: &[&str] = &["copy", "__copy__", "__deepcopy__"];

/// Functions that mutate their first argument, fully qualified.
pub const MUTATING_FUNCTIONS: &[&str] = &[
    "heapq.heappush",
    "heapq.heappop",
    "heapq.heapify",
    "heapq.heapreplace",
    "heapq.heappushpop",
    "bisect.insort",
    "bisect.insort_left",
    "bisect.insort_right",
    "random.shuffle",
    "operator.setitem",
    "operator.delitem",
    "builtins.list.append",
    "builtins.list.extend",
    "builtins.dict.update",
    "builtins.dict.setdefault",
    "builtins.set.add",
];

/// Whether a callee as written could be one of [`MUTATING_FUNCTIONS`]; the link confirms it.
pub fn is_mutating_function_name(callee: &str) -> bool {
    let last = callee.rsplit('.').next().unwrap_or(callee);
    MUTATING_FUNCTIONS
        .iter()
        .any(|f| f.rsplit('.').next() == Some(last))
}

/// Types whose instances are mutable containers, fully qualified.
pub const MUTABLE_TYPES: &[&str] = &[
    "builtins.list",
    "builtins.dict",
    "builtins.set",
    "builtins.bytearray",
    "collections.defaultdict",
    "collections.OrderedDict",
    "collections.Counter",
    "collections.deque",
    "collections.ChainMap",
    "weakref.WeakValueDictionary",
    "weakref.WeakKeyDictionary",
    "weakref.WeakSet",
];

/// Functions that return a copy of their argument.
pub const COPY_FUNCTIONS: &[&str] = &["copy.copy", "copy.deepcopy"];

/// Base classes whose framework copies class-level defaults into every instance.
pub const COPYING_BASES: &[&str] = &[
    "pydantic.BaseModel",
    "pydantic.main.BaseModel",
    "pydantic.v1.BaseModel",
    "pydantic.BaseSettings",
    "pydantic_settings.BaseSettings",
    "msgspec.Struct",
    "sqlmodel.SQLModel",
];

/// Enum bases: their class-level names are members, not shared containers.
pub const ENUM_BASES: &[&str] = &[
    "enum.Enum",
    "enum.IntEnum",
    "enum.StrEnum",
    "enum.Flag",
    "enum.IntFlag",
    "enum.ReprEnum",
    "django.db.models.Choices",
    "django.db.models.TextChoices",
    "django.db.models.IntegerChoices",
];

/// Methods that run when a class is created or an instance is set up, not per call.
pub const CLASS_CREATION_METHODS: &[&str] =
    &["__init_subclass__", "__set_name__", "__class_getitem__"];

/// Methods that give an instance its own attributes before other methods run.
pub const INSTANCE_SETUP_METHODS: &[&str] = &["__init__", "__new__", "__post_init__", "setUp"];

/// Names Python binds in every module without an import.
pub const BUILTINS: &[&str] = &[
    "object",
    "type",
    "list",
    "dict",
    "set",
    "frozenset",
    "tuple",
    "str",
    "bytes",
    "bytearray",
    "int",
    "float",
    "complex",
    "bool",
    "memoryview",
    "range",
    "slice",
    "property",
    "staticmethod",
    "classmethod",
    "super",
    "Exception",
    "BaseException",
    "ValueError",
    "TypeError",
    "KeyError",
    "RuntimeError",
    "getattr",
    "setattr",
    "isinstance",
    "len",
    "iter",
    "next",
    "sorted",
    "reversed",
    "min",
    "max",
    "sum",
    "any",
    "all",
    "map",
    "filter",
    "zip",
    "enumerate",
    "print",
    "open",
    "id",
    "hash",
    "repr",
    "vars",
    "dir",
    "callable",
];

/// Whether an annotation's outer name declares a class variable.
pub fn is_classvar_annotation(annotation: &str) -> bool {
    annotation.rsplit('.').next() == Some("ClassVar")
}
