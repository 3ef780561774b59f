//! Per-file facts: the compact, AST-free summary of one Python file that every later stage works on.
//!
//! Facts are extracted once per file (see [`crate::syntax`]) and never refer back to the syntax
//! tree. Names are written as they appear in the source; resolving them across modules is the job of
//! [`crate::project`]. Everything here is plain data so that it can be cached on disk.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

/// An identifier or a dotted name (`collections.defaultdict`), as written.
pub type Name = CompactString;

/// Index of a class in [`FileFacts::classes`].
pub type ClassIdx = u32;
/// Index of a function in [`FileFacts::functions`].
pub type FuncIdx = u32;

/// A byte range in the decoded source text of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: u32, end: u32) -> Self {
        Span { start, end }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct FileFacts {
    pub imports: Vec<Import>,
    /// Module-level name bindings, in source order.
    pub globals: Vec<Binding>,
    pub classes: Vec<ClassFacts>,
    pub functions: Vec<FunctionFacts>,
    /// Assignments of an attribute (`self.x = v`, `C.x = v`, `self.a.b = v`) inside functions.
    pub attribute_assignments: Vec<AttributeAssignment>,
    /// In-place changes of objects reached from `self`, the class, typed locals or globals.
    pub mutations: Vec<Mutation>,
    /// Parts of the file that were not analysed (too deeply nested), with the reason.
    pub truncated: Vec<(Span, Name)>,
}

/// `import a.b as c` binds `c` to module `a.b`; `import a.b` binds `a` to module `a`;
/// `from ..m import C as D` binds `D` to `C` in the module two levels up, `m`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Import {
    pub binding: Name,
    pub target: ImportTarget,
    /// The function the import statement is in, when it is not at module level.
    pub function: Option<FuncIdx>,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ImportTarget {
    Module(Name),
    Member {
        level: u32,
        module: Option<Name>,
        name: Name,
    },
}

/// A name bound to a value at class or module level.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Binding {
    pub name: Name,
    pub value: Value,
    /// The annotation's outermost name (`ClassVar` for `ClassVar[dict]`), when annotated.
    pub annotation: Option<Name>,
    /// The whole binding statement.
    pub span: Span,
}

/// What an expression evaluates to, as far as sharing is concerned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// A new container from a display or comprehension.
    Container(ContainerKind),
    /// A call of a (possibly dotted) name: `dict()`, `collections.deque()`, `Part()`.
    Call {
        callee: Name,
    },
    /// A new object copied from another: `x.copy()`, `x[:]`.
    Copy,
    /// The very object an access path refers to: `self.DEFAULTS`, `C.x`, `x or {}`.
    Alias(AccessPath),
    None,
    /// A literal of an immutable type (numbers, strings, tuples, frozensets of literals).
    Immutable,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContainerKind {
    List,
    Dict,
    Set,
}

impl ContainerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContainerKind::List => "list",
            ContainerKind::Dict => "dict",
            ContainerKind::Set => "set",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassFacts {
    pub name: Name,
    /// `Outer.Inner` for nested classes.
    pub qualname: Name,
    /// Base class expressions as dotted names (`Generic[T]` is written `Generic`); `None` for a
    /// base that is not a name (a call, for example).
    pub bases: Vec<Option<Name>>,
    pub metaclass: Option<Name>,
    pub decorators: Vec<Decorator>,
    /// Bindings in the class body, in source order.
    pub bindings: Vec<Binding>,
    /// Defined inside a function body (then it is a new class on every call).
    pub in_function: bool,
    /// The class name.
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decorator {
    pub name: Name,
    /// Written as a call: `@lru_cache(maxsize=None)`.
    pub called: bool,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FunctionKind {
    /// A function at module level.
    Module,
    /// A method whose first parameter is the instance.
    Instance,
    ClassMethod,
    StaticMethod,
    /// A function defined inside another function.
    Nested,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FunctionFacts {
    pub name: Name,
    /// `Class.method`, `func.inner`.
    pub qualname: Name,
    pub kind: FunctionKind,
    /// The class whose body defines the function.
    pub class: Option<ClassIdx>,
    /// The function whose body defines this one.
    pub parent: Option<FuncIdx>,
    pub is_async: bool,
    pub decorators: Vec<Decorator>,
    pub params: Vec<Param>,
    /// Locals whose class is known: bound once to `C(...)`, or parameters annotated `C`.
    pub typed_locals: Vec<TypedLocal>,
    /// The function name.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TypedLocal {
    pub name: Name,
    /// The class as written.
    pub class: Name,
    /// Bound to `C(...)` (exactly `C`), rather than annotated (`C` or a subclass).
    pub exact: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Param {
    pub name: Name,
    pub annotation: Option<Name>,
    pub default: Option<Value>,
    pub span: Span,
}

/// A path from a root object through attributes: `self._samplecache`, `C.registry`, `cache`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccessPath {
    pub root: Root,
    pub attrs: Vec<Name>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Root {
    /// The first parameter of an instance method.
    SelfParam,
    /// The class: first parameter of a classmethod, `type(self)`, `self.__class__`.
    Class,
    /// A parameter or local variable of the enclosing function.
    Local(Name),
    /// A name not bound in the enclosing function: a module global, an import or a builtin.
    Global(Name),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttributeAssignment {
    pub function: FuncIdx,
    /// The object whose attribute is assigned (`self` in `self.x = v`).
    pub object: AccessPath,
    pub attr: Name,
    pub value: Value,
    /// The assignment target.
    pub span: Span,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Mutation {
    pub function: FuncIdx,
    /// The shared object that changes (`self._samplecache` in `self._samplecache[k].append(v)`).
    pub target: AccessPath,
    pub kind: MutationKind,
    /// The mutating expression or assignment target.
    pub span: Span,
    /// The change reaches an element of `target` (`self.x[k].append(v)`), not `target` itself.
    pub nested: bool,
    /// Where a local alias of `target` was taken, when the mutation goes through one.
    pub alias: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MutationKind {
    ItemAssign,
    ItemDelete,
    ItemAugAssign,
    SliceAssign,
    /// A mutating method: `append`, `update`, `setdefault`, ...
    Method(Name),
    /// `+=`, `|=`, ... applied to the object itself (in place for lists, sets and dicts).
    InPlaceOperator(Name),
    /// A function that mutates its first argument, as written: `heapq.heappush`, `insort`.
    MutatingCall(Name),
    /// `obj.attr = v` on an object reached through the target.
    AttributeAssign(Name),
    AttributeDelete(Name),
}

impl AccessPath {
    pub fn new(root: Root) -> Self {
        AccessPath {
            root,
            attrs: Vec::new(),
        }
    }
    pub fn with_attr(mut self, attr: &str) -> Self {
        self.attrs.push(attr.into());
        self
    }
    /// `self.x.y` as written in the source, for messages.
    pub fn display(&self) -> String {
        let mut out = match &self.root {
            Root::SelfParam => "self".to_string(),
            Root::Class => "cls".to_string(),
            Root::Local(n) | Root::Global(n) => n.to_string(),
        };
        for a in &self.attrs {
            out.push('.');
            out.push_str(a);
        }
        out
    }
}
