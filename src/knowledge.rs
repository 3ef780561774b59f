//! What stateleak knows about Python and its libraries: the names of mutating methods, mutable
//! types, frameworks that copy class defaults per instance. One table per fact, used by the
//! extractor and the rules alike.

use std::collections::HashSet;
use std::sync::LazyLock;

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

/// Mutating methods that only reorder the object.
pub const REORDERING_METHODS: &[&str] = &["sort", "reverse", "rotate", "move_to_end"];

/// Mutating methods that only take entries out of a container (`symmetric_difference_update`
/// and `Counter.subtract` are not here: they may add).
pub const REMOVING_METHODS: &[&str] = &[
    "pop",
    "popitem",
    "popleft",
    "clear",
    "remove",
    "discard",
    "difference_update",
    "intersection_update",
    "__delitem__",
];

/// Whether `name` is one of [`MUTATING_METHODS`]: asked for every method call, so one hash
/// look-up rather than a scan of the list.
pub fn is_mutating_method(name: &str) -> bool {
    static SET: LazyLock<LastSegments> =
        LazyLock::new(|| MUTATING_METHODS.iter().copied().collect());
    SET.contains(name)
}

/// Whether `name` is one of [`BUILTINS`]: asked for most calls and names passed to them, so one
/// hash look-up rather than a scan of the list.
pub fn is_builtin(name: &str) -> bool {
    static SET: LazyLock<LastSegments> = LazyLock::new(|| BUILTINS.iter().copied().collect());
    SET.contains(name)
}

/// Whether mutating method `name` may take entries out of the object: neither adds to nor only
/// reorders it.
pub fn removes_entries(name: &str) -> bool {
    is_mutating_method(name)
        && !ADDING_METHODS.contains(&name)
        && !REORDERING_METHODS.contains(&name)
}

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
    is_mutating_function_last(last_segment(callee))
}

/// [`is_mutating_function_name`] for a callee's last segment (a name or an attribute of the
/// tree, which has no dot to look for).
pub fn is_mutating_function_last(last: &str) -> bool {
    static LAST: LazyLock<LastSegments> =
        LazyLock::new(|| last_segments(MUTATING_FUNCTIONS.iter().copied()));
    LAST.contains(last)
}

/// Whether a callee whose last segment is `last` could be one of [`REGISTRATION_FUNCTIONS`].
pub fn may_be_registration_function(last: &str) -> bool {
    static LAST: LazyLock<LastSegments> =
        LazyLock::new(|| last_segments(REGISTRATION_FUNCTIONS.iter().map(|(name, _)| *name)));
    LAST.contains(last)
}

/// The last segments of a list of qualified names. Questions like "could this callee be one of
/// these functions?" are asked for every call of every file, so they are one hash lookup each
/// rather than a scan of the list, and most are answered before that by one bit of `shapes`.
struct LastSegments {
    /// A bit per shape (length and end bytes, folded) of the names in `names`: a name whose bit
    /// is clear is not in the set, found without hashing it.
    shapes: u64,
    names: HashSet<&'static str, rustc_hash::FxBuildHasher>,
}

impl LastSegments {
    fn contains(&self, name: &str) -> bool {
        self.shapes & shape_bit(name) != 0 && self.names.contains(name)
    }
}

impl FromIterator<&'static str> for LastSegments {
    fn from_iter<I: IntoIterator<Item = &'static str>>(names: I) -> LastSegments {
        let names: HashSet<&'static str, rustc_hash::FxBuildHasher> = names.into_iter().collect();
        let shapes = names.iter().fold(0, |bits, name| bits | shape_bit(name));
        LastSegments { shapes, names }
    }
}

fn shape_bit(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (first, last) = match bytes {
        [] => (0, 0),
        [first, .., last] => (*first, *last),
        [only] => (*only, *only),
    };
    let folded = bytes.len() as u32 * 7 + u32::from(first) * 3 + u32::from(last);
    1 << (folded % 64)
}

fn last_segments(names: impl Iterator<Item = &'static str>) -> LastSegments {
    names.map(last_segment).collect()
}

/// The last segment of a dotted name: `defaultdict` for `collections.defaultdict`. A byte loop:
/// it is asked for every call, of names a few bytes long, where `rsplit` costs more in setting up
/// its search than in searching.
pub fn last_segment(name: &str) -> &str {
    match name.bytes().rposition(|b| b == b'.') {
        Some(dot) => &name[dot + 1..],
        None => name,
    }
}

/// Whether the last segment of the dotted `name` is `last`. Matching a name against a list this
/// way is asked for every call of every file, so it compares tails instead of splitting each entry.
pub fn has_last_segment(name: &str, last: &str) -> bool {
    name.ends_with(last)
        && (name.len() == last.len() || name.as_bytes()[name.len() - last.len() - 1] == b'.')
}

/// Types whose instances are mutable containers, fully qualified. None of them can be hashed, so
/// pydantic 2 copies a default of each ([`DefaultCopying::CopiesUnhashable`]).
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

/// Whether a call written `written(x)` returns a new copy of `x`: a copy function (also as
/// imported from `copy`) or a builtin container constructor.
pub fn is_copy_function(written: &str) -> bool {
    COPY_FUNCTIONS
        .iter()
        .any(|f| *f == written || f.strip_prefix("copy.") == Some(written))
        || matches!(written, "list" | "dict" | "set")
}

/// Which class-level defaults a model library gives each instance its own copy of (checked by
/// running pydantic 2.14 with pydantic-core 2.50, pydantic 1.10 and its `pydantic.v1`,
/// pydantic-settings 2.16, msgspec 0.23 and sqlmodel 0.0.50; BENCHMARKS.md, round 30). A
/// `ClassVar` is a class attribute under every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultCopying {
    /// pydantic 2: pydantic-core deep-copies a field's default only when it cannot be hashed
    /// (lists, dicts, sets, instances of classes with `__eq__` and no `__hash__`); a hashable
    /// default (an instance of a plain class) is the one object every instance holds. A private
    /// attribute's default (`_x: T = d`, annotated or not) is always deep-copied. A public name
    /// without an annotation is no field: the class is refused, or keeps it as a class attribute
    /// when pydantic ignores its type.
    CopiesUnhashable,
    /// pydantic 1: every field default, annotated or not, is deep-copied. A name with a leading
    /// underscore is shared by default, but a `Config` the facts do not read
    /// (`underscore_attrs_are_private`) copies it: not proved shared.
    CopiesEvery,
    /// msgspec: an empty builtin `list`, `dict`, `set` or `bytearray` default is copied (a
    /// non-empty one is refused when the class is created); any other default, and a name
    /// without an annotation, is one object every struct holds.
    CopiesEmptyBuiltins,
    /// sqlmodel: a `table=True` model deep-copies every default, a plain one behaves as pydantic
    /// 2; the facts do not record class keywords, so no default is proved shared.
    CopiesAny,
}

/// Model bases and how each treats a class-level default.
pub const DEFAULT_COPYING_BASES: &[(&str, DefaultCopying)] = &[
    ("pydantic.BaseModel", DefaultCopying::CopiesUnhashable),
    ("pydantic.main.BaseModel", DefaultCopying::CopiesUnhashable),
    (
        "pydantic_settings.BaseSettings",
        DefaultCopying::CopiesUnhashable,
    ),
    ("pydantic.v1.BaseModel", DefaultCopying::CopiesEvery),
    ("pydantic.v1.BaseSettings", DefaultCopying::CopiesEvery),
    // Only pydantic 1 has `pydantic.BaseSettings`; pydantic 2 raises on the import.
    ("pydantic.BaseSettings", DefaultCopying::CopiesEvery),
    ("msgspec.Struct", DefaultCopying::CopiesEmptyBuiltins),
    ("sqlmodel.SQLModel", DefaultCopying::CopiesAny),
];

/// The builtin containers msgspec copies when a default is one of them, empty.
pub const MSGSPEC_COPIED_TYPES: &[&str] = &[
    "builtins.list",
    "builtins.dict",
    "builtins.set",
    "builtins.bytearray",
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

/// Keyword arguments that bound how long a call may take (`fetch(url, timeout=t)`): a call that
/// finishes returns what it would have returned with any other bound, and one that runs out of
/// time raises. Assumed of every callee, as `requests`, `httpx`, `urllib`, `socket` and
/// `asyncio.wait_for` do; a value made of time arithmetic given as one is no input of the result
/// (SL402's memo values).
pub const TIME_BOUND_KEYWORDS: &[&str] = &["timeout", "deadline"];

/// Clock reads, as written, for [`TIME_BOUND_KEYWORDS`]' time arithmetic.
pub const CLOCK_READS: &[&str] = &[
    "time.monotonic",
    "time.time",
    "time.perf_counter",
    "monotonic",
    "perf_counter",
];

/// Methods that run when a class is created or an instance is set up, not per call.
pub const CLASS_CREATION_METHODS: &[&str] =
    &["__init_subclass__", "__set_name__", "__class_getitem__"];

/// Methods of a metaclass that run while a class using it is created (not `__call__`, which runs
/// when the class is instantiated).
pub const METACLASS_CREATION_METHODS: &[&str] = &["__new__", "__init__", "__prepare__"];

/// Methods that give an instance its own attributes before other methods run.
pub const INSTANCE_SETUP_METHODS: &[&str] = &["__init__", "__new__", "__post_init__", "setUp"];

/// Bases that make a class a protocol: matched by shape, so an object that conforms to one need
/// not be an instance of it or of a subclass of it.
pub const PROTOCOL_BASES: &[&str] = &["typing.Protocol", "typing_extensions.Protocol"];

/// Form classes of WTForms (and subclasses of it in other packages) whose `__init__` binds every
/// field the class declares and sets the bound field on the instance: a field's class attribute
/// holds an `UnboundField`, and from `Form.__init__` on each form has field objects of its own.
/// Only classes read to be such a subclass are listed, each with an `__init__` that reaches
/// `Form.__init__` on every path that returns: an unknown base is no proof (WTForms' own
/// `BaseForm` binds only the fields handed to it, and leaves the class's `UnboundField` the
/// attribute every instance reads). Flask-WTF's `FlaskForm`; cherrypy-foundation 1.19's
/// `CherryForm` (`class CherryForm(Form)`, `from wtforms.form import Form`, whose `__init__`
/// ends in `super().__init__(formdata=..., meta=..., **kwargs)`).
pub const FIELD_BINDING_FORMS: &[&str] = &[
    "wtforms.Form",
    "wtforms.form.Form",
    "flask_wtf.FlaskForm",
    "flask_wtf.form.FlaskForm",
    "cherrypy_foundation.form.CherryForm",
];

/// The field classes of WTForms, by class name: calling one (or a subclass) in a form's class
/// body makes an `UnboundField` that [`FIELD_BINDING_FORMS`] bind per form.
const WTFORMS_FIELDS: &[&str] = &[
    "Field",
    "BooleanField",
    "ColorField",
    "DateField",
    "DateTimeField",
    "DateTimeLocalField",
    "DecimalField",
    "DecimalRangeField",
    "EmailField",
    "FieldList",
    "FileField",
    "FloatField",
    "FormField",
    "HiddenField",
    "IntegerField",
    "IntegerRangeField",
    "MonthField",
    "MultipleFileField",
    "PasswordField",
    "RadioField",
    "SearchField",
    "SelectField",
    "SelectFieldBase",
    "SelectMultipleField",
    "StringField",
    "SubmitField",
    "TelField",
    "TextAreaField",
    "TimeField",
    "URLField",
    "WeekField",
];

/// Field classes of Flask-WTF, fully qualified.
const FLASK_WTF_FIELDS: &[&str] = &[
    "flask_wtf.RecaptchaField",
    "flask_wtf.recaptcha.RecaptchaField",
    "flask_wtf.file.FileField",
    "flask_wtf.file.MultipleFileField",
];

/// Field classes of WTForms' companion modules, fully qualified: WTForms 2's `wtforms.ext`
/// (removed in WTForms 3) and the `wtforms_sqlalchemy` package that took over its SQLAlchemy
/// fields. Each derives from WTForms' `Field`, so a form binds it like the others.
const WTFORMS_EXTENSION_FIELDS: &[&str] = &[
    "wtforms.ext.sqlalchemy.fields.QuerySelectField",
    "wtforms.ext.sqlalchemy.fields.QuerySelectMultipleField",
    "wtforms.ext.sqlalchemy.fields.ModelSelectField",
    "wtforms.ext.dateutil.fields.DateTimeField",
    "wtforms.ext.dateutil.fields.DateField",
    "wtforms_sqlalchemy.fields.QuerySelectField",
    "wtforms_sqlalchemy.fields.QuerySelectMultipleField",
    "wtforms_sqlalchemy.fields.ModelSelectField",
];

/// Whether the fully qualified `name` is a form field class of WTForms or Flask-WTF: one of
/// WTForms' field classes where `wtforms` or its `wtforms.fields` package exports it, or a field
/// of its companion modules.
pub fn is_form_field(name: &str) -> bool {
    if FLASK_WTF_FIELDS.contains(&name) || WTFORMS_EXTENSION_FIELDS.contains(&name) {
        return true;
    }
    let Some((module, class)) = name.rsplit_once('.') else {
        return false;
    };
    (module == "wtforms" || module == "wtforms.fields" || module.starts_with("wtforms.fields."))
        && WTFORMS_FIELDS.contains(&class)
}

/// Django's model base classes, fully qualified. `ModelBase` hands every field a model's class
/// body binds (an instance of a Django field class, [`is_django_field`]) to the field's
/// `contribute_to_class`, which puts a descriptor (`DeferredAttribute`, a related-object
/// descriptor) under the field's name: `self.name` is the instance's own value, never the field.
pub const DJANGO_MODEL_BASES: &[&str] = &["django.db.models.Model", "django.db.models.base.Model"];

/// MongoEngine's document base classes, fully qualified. The document metaclass collects the
/// fields a class body binds (instances of MongoEngine field classes, [`is_mongoengine_field`])
/// into `_fields`, and a field is a descriptor whose `__get__` through an instance returns that
/// document's own value: `self.name` is never the field.
pub const MONGOENGINE_DOCUMENT_BASES: &[&str] = &[
    "mongoengine.Document",
    "mongoengine.document.Document",
    "mongoengine.DynamicDocument",
    "mongoengine.document.DynamicDocument",
    "mongoengine.EmbeddedDocument",
    "mongoengine.document.EmbeddedDocument",
    "mongoengine.DynamicEmbeddedDocument",
    "mongoengine.document.DynamicEmbeddedDocument",
];

/// WSME's complex type bases, fully qualified. Their metaclass (`BaseMeta`) registers every
/// subclass, and the registry replaces each attribute of the class without a leading underscore
/// that is no routine or plain property by a `wsattr` data descriptor: a list or dict there
/// (`services = [Service]`) only names the attribute's type, and through an instance the
/// attribute is that instance's own value (`Unset` until set).
pub const WSME_COMPLEX_TYPE_BASES: &[&str] = &["wsme.types.Base", "wsme.types.DynamicBase"];

/// bokeh's `HasProps`, fully qualified: when bokeh itself is analysed, its models are the classes
/// of the tree deriving from it ([`is_bokeh_model`] names them as bokeh's users import them).
pub const BOKEH_HAS_PROPS: &str = "bokeh.core.has_props.HasProps";

/// The classes, fully qualified, whose instances `HasProps` takes out of a model's class body
/// ([`is_bokeh_property`]): when bokeh itself is analysed, its property types are the classes of
/// the tree deriving from one of them.
pub const BOKEH_PROPERTY_BASES: &[&str] = &[
    "bokeh.core.property.descriptor_factory.PropertyDescriptorFactory",
    "bokeh.core.property.override.Override",
];

/// Whether the fully qualified `name` is bokeh's `HasProps` or a class every user of bokeh
/// imports as one of its subclasses (`bokeh.models.Model`, a model of `bokeh.models`,
/// `bokeh.plotting.figure`). `HasProps`'s metaclass (`MetaHasProps.__new__`, through
/// `_compile_property_info` in `bokeh/core/has_props.py`, read in bokeh 3.10.2) takes every
/// class-body value that is an `Override` or a `PropertyDescriptorFactory`
/// ([`is_bokeh_property`]) out of the class's namespace and installs, under the property's name,
/// a `PropertyDescriptor` whose `__get__` through an instance gives that instance its own value
/// (a copy of a container default, a new object for `InstanceDefault`); any other class-body
/// value it leaves as it is.
pub fn is_bokeh_model(name: &str) -> bool {
    name == BOKEH_HAS_PROPS
        || matches!(
            name,
            "bokeh.model.Model"
                | "bokeh.model.model.Model"
                | "bokeh.plotting.figure"
                | "bokeh.plotting._figure.figure"
        )
        || name
            .strip_prefix("bokeh.models.")
            .is_some_and(|rest| !rest.is_empty())
}

/// Whether the fully qualified `name` is a class whose instances bokeh's `HasProps` takes out of a
/// model's class body ([`is_bokeh_model`]): `Override`, `PropertyDescriptorFactory` (the base of
/// every property type: `Property` and `Include`), or a property type `bokeh.core.properties`
/// exports (from there or from its module of `bokeh.core.property`). `InstanceDefault`, the
/// exceptions and the lowercase helpers it exports are no such class and stay in the class body.
pub fn is_bokeh_property(name: &str) -> bool {
    let Some((module, class)) = name.rsplit_once('.') else {
        return false;
    };
    (module == "bokeh.core.properties" || module.starts_with("bokeh.core.property."))
        && (BOKEH_PROPERTY_TYPES.contains(&class)
            || matches!(
                class,
                "PropertyDescriptorFactory"
                    | "Property"
                    | "ParameterizedProperty"
                    | "SingleParameterizedProperty"
                    | "PrimitiveProperty"
                    | "ContainerProperty"
            ))
}

/// The property types `bokeh.core.properties` exports (its `__all__` in bokeh 3.10.2, less
/// `CoordinateLike`, an instance rather than a class, `InstanceDefault`, `UnsetValueError` and the
/// lowercase helpers), each a `PropertyDescriptorFactory` or `Override`.
const BOKEH_PROPERTY_TYPES: &[&str] = &[
    "Alias",
    "Alpha",
    "AlphaSpec",
    "Angle",
    "AngleSpec",
    "Any",
    "AnyRef",
    "Array",
    "Auto",
    "Bool",
    "BoolSpec",
    "Byte",
    "Bytes",
    "CSSLength",
    "Color",
    "ColorHex",
    "ColorSpec",
    "ColumnData",
    "Complex",
    "DashPattern",
    "DashPatternSpec",
    "DataSpec",
    "Date",
    "Datetime",
    "DeprecatedAlias",
    "Dict",
    "DistanceSpec",
    "EagerDataFrame",
    "EagerSeries",
    "Either",
    "Enum",
    "Factor",
    "FactorSeq",
    "Float",
    "FloatSpec",
    "FontSize",
    "FontSizeSpec",
    "FontStyleSpec",
    "HatchPatternSpec",
    "HatchPatternType",
    "Image",
    "Include",
    "Instance",
    "Int",
    "IntSpec",
    "Interval",
    "JSON",
    "Len",
    "LineCapSpec",
    "LineJoinSpec",
    "List",
    "MarkerSpec",
    "MarkerType",
    "MathString",
    "MinMaxBounds",
    "NonEmpty",
    "NonNegative",
    "NotSerialized",
    "Nothing",
    "Null",
    "NullDistanceSpec",
    "NullStringSpec",
    "Nullable",
    "NumberSpec",
    "Object",
    "Override",
    "PandasDataFrame",
    "PandasGroupBy",
    "Percent",
    "Positive",
    "RGB",
    "Readonly",
    "Regex",
    "RelativeDelta",
    "Required",
    "RestrictedDict",
    "Seq",
    "Set",
    "Size",
    "SizeSpec",
    "String",
    "StringSpec",
    "Struct",
    "Time",
    "TimeDelta",
    "TextAlignSpec",
    "TextBaselineSpec",
    "TextLike",
    "Tuple",
    "TypeOfAttr",
    "UnitsSpec",
];

/// Whether the fully qualified `name` is a field class of MongoEngine: a class named `...Field`
/// that `mongoengine`, its `fields` module or its `base` package exports (`StringField`,
/// `EmbeddedDocumentField`, `BaseField`, ...).
pub fn is_mongoengine_field(name: &str) -> bool {
    let Some((module, class)) = name.rsplit_once('.') else {
        return false;
    };
    matches!(
        module,
        "mongoengine" | "mongoengine.fields" | "mongoengine.base" | "mongoengine.base.fields"
    ) && class.ends_with("Field")
}

/// Whether the fully qualified `name` is a model field class of Django: `Field` and the field
/// classes of `django.db.models` (`CharField`, `ForeignKey`, ...), of its `fields` package, and
/// of the model field packages of `django.contrib` (postgres, gis).
pub fn is_django_field(name: &str) -> bool {
    let Some((module, class)) = name.rsplit_once('.') else {
        return false;
    };
    let module_of_fields = module == "django.db.models"
        || module.starts_with("django.db.models.fields")
        || module.starts_with("django.contrib.postgres.fields")
        || module == "django.contrib.gis.db.models"
        || module.starts_with("django.contrib.gis.db.models.fields");
    module_of_fields
        && (class.ends_with("Field") || matches!(class, "ForeignKey" | "ForeignObject"))
}

/// Builtins that read their argument and keep no reference to it past the call.
pub const READING_BUILTINS: &[&str] = &[
    "len",
    "bool",
    "any",
    "all",
    "sum",
    "min",
    "max",
    "sorted",
    "list",
    "tuple",
    "set",
    "frozenset",
    "dict",
    "str",
    "repr",
    "print",
    "isinstance",
    "hash",
    "id",
    "format",
];

/// Methods that read a container and keep no reference to it: the entries, a copy, a count.
pub const READING_METHODS: &[&str] = &["get", "copy", "count", "index", "keys", "values", "items"];

/// Builtin types whose instances no operation changes in place: `x += y` on one binds a new
/// object to `x`.
pub const IMMUTABLE_BUILTIN_TYPES: &[&str] = &[
    "frozenset",
    "tuple",
    "str",
    "bytes",
    "int",
    "float",
    "complex",
    "bool",
    "range",
];

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
    last_segment(annotation) == "ClassVar"
}

/// Start-up functions: module-level functions a framework calls by their name while the
/// application is configured, in a module that imports the framework (the tree's own modules
/// count when the tree is the framework): (framework's top-level package, what it is, function).
pub const START_UP_MODULE_FUNCTIONS: &[(&str, &str, &str)] = &[
    // `Configurator.include("pkg.mod")` calls `pkg.mod.includeme(config)` while the application
    // is configured.
    ("pyramid", "Pyramid configuration include", "includeme"),
    // `flask run` (and every `flask` command) without a module-level `app` finds a factory named
    // `create_app` or `make_app` and calls it once, to make the application.
    ("flask", "Flask application factory", "create_app"),
    ("flask", "Flask application factory", "make_app"),
];

/// ASGI application classes that run the `lifespan=` handler they are given while the
/// application starts, before it serves a request (the part of the handler before its `yield`).
pub const LIFESPAN_APPLICATIONS: &[&str] = &[
    "fastapi.FastAPI",
    "fastapi.applications.FastAPI",
    "starlette.applications.Starlette",
];

/// Start-up hooks: methods a framework documents to run once per process or application while
/// it is configured, not per request. The methods of a class deriving from the base (outside
/// the tree, or the base itself when the tree is the framework), found along the MRO:
/// (qualified base, what it is, methods).
pub const START_UP_HOOK_BASES: &[(&str, &str, &[&str])] = &[
    // `Integration.setup_once` is called once per process, however many clients are made.
    (
        "sentry_sdk.integrations.Integration",
        "Sentry integration set-up",
        &["setup_once"],
    ),
    // `AppConfig.ready` runs once, when the app registry is populated.
    (
        "django.apps.AppConfig",
        "Django app configuration",
        &["ready"],
    ),
    (
        "django.apps.config.AppConfig",
        "Django app configuration",
        &["ready"],
    ),
    // `Provider.register` runs when the application adds its providers; `boot` runs per request.
    (
        "masonite.providers.Provider",
        "Masonite provider registration",
        &["register"],
    ),
    (
        "masonite.providers.Provider.Provider",
        "Masonite provider registration",
        &["register"],
    ),
    // graphene's `SubclassWithMeta.__init_subclass__` calls `__init_subclass_with_meta__` once per
    // subclass, while the subclass is created.
    (
        "graphene.ObjectType",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.types.objecttype.ObjectType",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.InputObjectType",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.types.inputobjecttype.InputObjectType",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.Interface",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.types.interface.Interface",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.Mutation",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.types.mutation.Mutation",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.relay.ClientIDMutation",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.relay.mutation.ClientIDMutation",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.relay.Connection",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.relay.connection.Connection",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.types.base.BaseType",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    (
        "graphene.utils.subclass_with_meta.SubclassWithMeta",
        "graphene type creation",
        &["__init_subclass_with_meta__"],
    ),
    // circus runs each plugin in a process of its own, whose `main` makes the one plugin instance
    // and starts it: the plugin's `__init__` runs once, as that process starts.
    (
        "circus.plugins.CircusPlugin",
        "circus plugin start-up",
        &["__init__"],
    ),
    // mautrix's `Program.run` calls `prepare_arg_parser`, `prepare_config`, `prepare_log` and
    // `prepare` once, before it starts the loop; a bridge's `prepare` calls `prepare_db`,
    // `prepare_appservice` and `prepare_bridge`.
    (
        "mautrix.util.program.Program",
        "mautrix program set-up",
        MAUTRIX_PREPARE,
    ),
    (
        "mautrix.bridge.Bridge",
        "mautrix bridge set-up",
        MAUTRIX_PREPARE,
    ),
    (
        "mautrix.bridge.bridge.Bridge",
        "mautrix bridge set-up",
        MAUTRIX_PREPARE,
    ),
    // Tryton's `Pool.init` calls `__setup__` and then `__post_setup__` once on each class it
    // adds to the pool, when the pool of a database is built.
    (
        "trytond.pool.PoolBase",
        "Tryton pool set-up",
        &["__setup__", "__post_setup__"],
    ),
];

/// The set-up methods mautrix's `Program.run` runs once (a bridge's `prepare` runs the last three).
const MAUTRIX_PREPARE: &[&str] = &[
    "prepare_arg_parser",
    "prepare_config",
    "prepare_log",
    "prepare",
    "prepare_db",
    "prepare_appservice",
    "prepare_bridge",
];

/// Metaclasses: methods of classes deriving from these run when classes are created.
pub const METACLASS_BASES: &[&str] = &[
    "builtins.type",
    "abc.ABCMeta",
    "enum.EnumMeta",
    "enum.EnumType",
];

/// Types outside the analysed tree whose instances are plain mutable objects (attributes can be
/// set on them), fully qualified. Both define `__eq__` without `__hash__`: pydantic 2 copies a
/// default of each ([`DefaultCopying::CopiesUnhashable`]).
pub const MUTABLE_OBJECT_TYPES: &[&str] = &["types.SimpleNamespace", "argparse.Namespace"];

/// Objects of well-known libraries that a program creates once and every request uses (the
/// application, a connection pool): what a request writes into their attributes (`app.config[k]
/// = v`, `session.headers.update(...)`, `app.state.user = u`) every later request sees.
pub const PROCESS_WIDE_LIBRARY_TYPES: &[&str] = &[
    "flask.Flask",
    "quart.Quart",
    "fastapi.FastAPI",
    "starlette.applications.Starlette",
    "requests.Session",
    "requests.sessions.Session",
    "httpx.Client",
    "httpx.AsyncClient",
];

/// Bases whose subclasses' instances cannot change.
pub const IMMUTABLE_BASES: &[&str] = &[
    "typing.NamedTuple",
    "typing_extensions.NamedTuple",
    "builtins.tuple",
    "builtins.frozenset",
];

/// Class decorators that make instances immutable.
pub const FROZEN_CLASS_DECORATORS: &[&str] = &["attr.frozen", "attrs.frozen"];

/// Class decorators whose generated `__init__` gives each field its class-level default as it
/// is, with no conversion or validation (unlike pydantic's): an instance built without that
/// argument holds the literal the class body binds.
pub const PLAIN_FIELD_DECORATORS: &[&str] = &[
    "dataclasses.dataclass",
    "attr.s",
    "attr.attrs",
    "attr.define",
    "attr.mutable",
    "attrs.define",
    "attrs.mutable",
];

/// Whether the class decorator `qualified` generates a dataclass (the plain ones and pydantic's),
/// whose instances are immutable when it is given `frozen=True`.
pub fn is_dataclass_decorator(qualified: &str) -> bool {
    PLAIN_FIELD_DECORATORS.contains(&qualified) || qualified == "pydantic.dataclasses.dataclass"
}

/// Decorators that memoise a function's results in one process-wide cache, fully qualified.
pub const CACHE_DECORATORS: &[&str] = &["functools.lru_cache", "functools.cache"];

/// Decorators that, written over a cached method, still have it called with the instance first:
/// `property` calls it with the instance; the others return the function as it is. Under any
/// other decorator nothing proves what the cached function is called with (a `classproperty`
/// calls it with the class).
pub const INSTANCE_PRESERVING_DECORATORS: &[&str] = &[
    "builtins.property",
    "abc.abstractmethod",
    "typing.override",
    "typing.final",
    "typing_extensions.override",
    "typing_extensions.final",
];

/// Whether a decorator as written could be one of [`CACHE_DECORATORS`]; the link confirms it.
pub fn is_cache_decorator_name(name: &str) -> bool {
    let last = last_segment(name);
    CACHE_DECORATORS.iter().any(|d| has_last_segment(d, last))
}

/// Types whose instances hold one value per thread, fully qualified.
pub const THREAD_LOCAL_TYPES: &[&str] = &["threading.local", "_threading_local.local"];

/// Types whose instances hold one value per execution context, fully qualified.
pub const CONTEXT_VAR_TYPES: &[&str] = &["contextvars.ContextVar"];

/// attrs field declarations whose `default=` object is shared by every instance.
pub const ATTRS_FIELD_FUNCTIONS: &[&str] = &[
    "attr.ib",
    "attr.attrib",
    "attr.attr",
    "attr.field",
    "attrs.field",
];

/// Mutating methods that store one of their arguments itself (not a copy of its contents) in the
/// receiver, with the numbers of positional arguments the container types' own methods take
/// (`list.insert(i, x)`, `dict.setdefault(k)` or `(k, d)`). A call of one of these names with
/// other arguments is another type's method (`attributes.add("skills", value)` of an ORM's
/// attribute handler), which may copy, serialise or ignore what it is given.
const STORING_METHODS: &[(&str, &[usize])] = &[
    ("append", &[1]),
    ("insert", &[2]),
    ("add", &[1]),
    ("setdefault", &[1, 2]),
    ("appendleft", &[1]),
    ("__setitem__", &[2]),
];

/// Whether a call of `method` with `positional` positional arguments and `keywords` keyword
/// arguments is one of [`STORING_METHODS`] as the builtin containers define it: the receiver
/// keeps an argument itself. None of them takes a keyword, nor a starred argument (count it as a
/// keyword: its length is unknown).
pub fn stores_an_argument(method: &str, positional: usize, keywords: usize) -> bool {
    keywords == 0
        && STORING_METHODS
            .iter()
            .any(|(name, arities)| *name == method && arities.contains(&positional))
}

/// Methods that put their arguments, or what their arguments hold, into the container they are
/// called on: the values stage follows what goes in (`handlers.append(f)`) to where the
/// container is read or iterated.
pub const FILLING_METHODS: &[&str] = &["append", "add", "insert", "extend", "update", "setdefault"];

/// Methods that keep a callback to run on a later event of their object, never during the call
/// that registers it: a stream's close (Tornado's `IOStream.set_close_callback`). A future's
/// `add_done_callback` is not here: a request's own future often completes within the request.
pub const LATER_EVENT_REGISTRATIONS: &[&str] = &["set_close_callback"];

/// Methods test frameworks call around each test.
pub const TEST_FIXTURE_METHODS: &[&str] = &[
    "setUp",
    "tearDown",
    "setUpClass",
    "tearDownClass",
    "setup_method",
    "teardown_method",
    "setup_class",
    "teardown_class",
];

// ----- request entry points (issue 4) -----------------------------------------------------------

/// Objects of web and task frameworks whose decorators register request handlers, fully
/// qualified, with the framework's name.
pub const FRAMEWORK_OBJECTS: &[(&str, &str)] = &[
    ("flask.Flask", "Flask"),
    ("flask.app.Flask", "Flask"),
    ("flask.Blueprint", "Flask"),
    ("flask.blueprints.Blueprint", "Flask"),
    ("quart.Quart", "Quart"),
    ("quart.Blueprint", "Quart"),
    ("fastapi.FastAPI", "FastAPI"),
    ("fastapi.applications.FastAPI", "FastAPI"),
    ("fastapi.APIRouter", "FastAPI"),
    ("fastapi.routing.APIRouter", "FastAPI"),
    ("starlette.applications.Starlette", "Starlette"),
    ("starlette.routing.Router", "Starlette"),
    ("aiohttp.web.RouteTableDef", "aiohttp"),
    ("aiohttp.web.Application", "aiohttp"),
    ("sanic.Sanic", "Sanic"),
    ("sanic.Blueprint", "Sanic"),
    ("celery.Celery", "Celery"),
    ("celery.app.Celery", "Celery"),
];

/// Decorator methods of [`FRAMEWORK_OBJECTS`] that register a request handler.
pub const ROUTE_DECORATOR_METHODS: &[&str] = &[
    "route",
    "api_route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "head",
    "options",
    "trace",
    "websocket",
    "websocket_route",
    "view",
];

/// Decorator methods of [`FRAMEWORK_OBJECTS`] that register code run around each request.
pub const HOOK_DECORATOR_METHODS: &[&str] = &[
    "before_request",
    "after_request",
    "teardown_request",
    "before_app_request",
    "after_app_request",
    "teardown_app_request",
    "errorhandler",
    "app_errorhandler",
    "context_processor",
    "app_context_processor",
    "url_value_preprocessor",
    "url_defaults",
    "middleware",
    "exception_handler",
];

/// Decorator methods of task-queue objects that register a task.
pub const TASK_DECORATOR_METHODS: &[&str] = &["task", "periodic_task", "shared_task"];

/// Decorators that make a function an entry point, fully qualified, with the kind of entry point.
pub const ENTRY_DECORATORS: &[(&str, &str)] = &[
    ("celery.shared_task", "Celery task"),
    ("celery.task", "Celery task"),
    ("dramatiq.actor", "Dramatiq actor"),
    (
        "rest_framework.decorators.api_view",
        "Django REST framework view",
    ),
    (
        "rest_framework.decorators.action",
        "Django REST framework action",
    ),
    (
        "django.views.decorators.http.require_http_methods",
        "Django view",
    ),
    ("django.views.decorators.http.require_GET", "Django view"),
    ("django.views.decorators.http.require_POST", "Django view"),
    ("django.views.decorators.http.require_safe", "Django view"),
    ("django.views.decorators.csrf.csrf_exempt", "Django view"),
    (
        "django.contrib.auth.decorators.login_required",
        "Django view",
    ),
    (
        "django.contrib.auth.decorators.permission_required",
        "Django view",
    ),
];

/// Calls that register the functions (or views) passed to them as request handlers, by the name
/// of the method called: `app.add_url_rule("/", view_func=index)`.
pub const REGISTRATION_METHODS: &[&str] = &[
    "add_url_rule",
    "add_api_route",
    "add_api_websocket_route",
    "add_websocket_route",
    "add_route",
    "add_get",
    "add_post",
    "add_put",
    "add_patch",
    "add_delete",
    "add_head",
    "add_view",
    "register_error_handler",
    "add_exception_handler",
    "before_request",
    "after_request",
    "teardown_request",
];

/// Functions that register what is passed to them as request handlers, fully qualified.
pub const REGISTRATION_FUNCTIONS: &[(&str, &str)] = &[
    ("django.urls.path", "Django URL pattern"),
    ("django.urls.re_path", "Django URL pattern"),
    ("django.conf.urls.url", "Django URL pattern"),
    ("fastapi.Depends", "FastAPI dependency"),
    ("fastapi.params.Depends", "FastAPI dependency"),
    ("fastapi.Security", "FastAPI dependency"),
    ("starlette.routing.Route", "Starlette route"),
    ("starlette.routing.WebSocketRoute", "Starlette route"),
    ("fastapi.routing.APIRoute", "FastAPI route"),
    ("aiohttp.web.get", "aiohttp route"),
    ("aiohttp.web.post", "aiohttp route"),
    ("aiohttp.web.put", "aiohttp route"),
    ("aiohttp.web.patch", "aiohttp route"),
    ("aiohttp.web.delete", "aiohttp route"),
    ("aiohttp.web.route", "aiohttp route"),
    ("aiohttp.web.view", "aiohttp route"),
];

/// HTTP method handlers of class-based views.
pub const HTTP_METHOD_HANDLERS: &[&str] = &[
    "get", "post", "put", "patch", "delete", "head", "options", "trace",
];

/// Methods Django's class-based views (and Django REST framework's) call on every request, besides
/// the HTTP method handlers.
pub const DJANGO_VIEW_HOOKS: &[&str] = &[
    "dispatch",
    "setup",
    "http_method_not_allowed",
    "get_context_data",
    "get_queryset",
    "get_object",
    "get_template_names",
    "get_form",
    "get_form_class",
    "get_form_kwargs",
    "get_initial",
    "form_valid",
    "form_invalid",
    "get_success_url",
    "get_redirect_url",
    "render_to_response",
    "paginate_queryset",
    "get_paginate_by",
    "list",
    "create",
    "retrieve",
    "update",
    "partial_update",
    "destroy",
    "perform_create",
    "perform_update",
    "perform_destroy",
    "get_serializer",
    "get_serializer_class",
    "get_serializer_context",
    "get_permissions",
    "initial",
    "finalize_response",
    "handle_exception",
    "filter_queryset",
];

/// Middleware hooks that run on every request.
pub const MIDDLEWARE_HOOKS: &[&str] = &[
    "__call__",
    "process_request",
    "process_view",
    "process_response",
    "process_exception",
    "process_template_response",
];

/// Framework base classes whose subclasses' methods are called per request: a qualified name or
/// a prefix ending in `.`, the kind of entry point, and the methods (besides
/// [`HTTP_METHOD_HANDLERS`] when the flag says so).
pub const REQUEST_HANDLER_BASES: &[(&str, &str, bool, &[&str])] = &[
    ("django.views.", "Django view", true, DJANGO_VIEW_HOOKS),
    (
        "rest_framework.views.",
        "Django REST framework view",
        true,
        DJANGO_VIEW_HOOKS,
    ),
    (
        "rest_framework.viewsets.",
        "Django REST framework view",
        true,
        DJANGO_VIEW_HOOKS,
    ),
    (
        "rest_framework.generics.",
        "Django REST framework view",
        true,
        DJANGO_VIEW_HOOKS,
    ),
    (
        "django.utils.deprecation.MiddlewareMixin",
        "Django middleware",
        false,
        MIDDLEWARE_HOOKS,
    ),
    ("flask.views.", "Flask view", true, &["dispatch_request"]),
    ("quart.views.", "Quart view", true, &["dispatch_request"]),
    (
        "starlette.endpoints.HTTPEndpoint",
        "Starlette endpoint",
        true,
        &[],
    ),
    (
        "starlette.endpoints.WebSocketEndpoint",
        "Starlette endpoint",
        false,
        &["on_connect", "on_receive", "on_disconnect"],
    ),
    (
        "tornado.web.RequestHandler",
        "Tornado handler",
        true,
        &["initialize", "prepare", "on_finish"],
    ),
    (
        "tornado.websocket.WebSocketHandler",
        "Tornado handler",
        false,
        &["open", "on_message", "on_close"],
    ),
    ("aiohttp.web.View", "aiohttp view", true, &[]),
    (
        "channels.generic.",
        "Channels consumer",
        false,
        &[
            "connect",
            "receive",
            "disconnect",
            "receive_json",
            "websocket_receive",
        ],
    ),
    ("celery.Task", "Celery task", false, &["run", "__call__"]),
    (
        "celery.app.task.Task",
        "Celery task",
        false,
        &["run", "__call__"],
    ),
];

/// Module-level objects of web frameworks that stand for the current request, fully qualified:
/// what is read through them differs from request to request.
pub const REQUEST_GLOBALS: &[&str] = &[
    "flask.request",
    "flask.g",
    "flask.session",
    "quart.request",
    "quart.g",
    "quart.session",
    "bottle.request",
];

#[cfg(test)]
mod last_segment_tests {
    use super::*;

    #[test]
    fn last_segments_match_whole_segments_only() {
        assert_eq!(last_segment("collections.defaultdict"), "defaultdict");
        assert_eq!(last_segment("dict"), "dict");
        assert!(has_last_segment("heapq.heappush", "heappush"));
        assert!(has_last_segment("heappush", "heappush"));
        assert!(!has_last_segment("heapq.xheappush", "heappush"));
        assert!(!has_last_segment("heapq.heappush", "push"));
        assert!(is_mutating_function_name("q.heappush"));
        assert!(is_mutating_function_name("insort"));
        assert!(!is_mutating_function_name("sort"));
        assert!(!is_mutating_function_name(""));
    }

    #[test]
    fn form_fields_are_wtforms_field_classes_where_wtforms_exports_them() {
        assert!(is_django_field("django.db.models.Field"));
        assert!(is_django_field("django.db.models.fields.CharField"));
        assert!(is_django_field("django.db.models.ForeignKey"));
        assert!(!is_django_field("django.db.models.Model"));
        assert!(!is_django_field("django.forms.CharField"));
        assert!(is_form_field("wtforms.StringField"));
        assert!(is_form_field("wtforms.fields.StringField"));
        assert!(is_form_field("wtforms.fields.simple.TextAreaField"));
        assert!(is_form_field("flask_wtf.file.FileField"));
        assert!(!is_form_field("wtforms.Form"));
        assert!(!is_form_field("wtforms.widgets.TextArea"));
        assert!(!is_form_field("myforms.StringField"));
        assert!(!is_form_field("StringField"));
    }
}
