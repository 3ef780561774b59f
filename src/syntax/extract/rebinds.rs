//! The names a module may rebind in some other way than `name = value` at module level, the one
//! form [`crate::facts::FileFacts::globals`] records: a target of unpacking, `for`, `with`,
//! `except ... as`, `match`, `:=`, `del`, `+=`, `type`, and every name a function or class
//! declares `global`. Taken from the whole file, whatever the scope (a local of the same name
//! counts too), so the list errs on the side of holding a name: a name it does not hold is bound
//! at module level by its `globals` bindings alone. A module that reads `globals`, `vars`,
//! `locals`, `eval` or `exec` may bind any name, and so may a file too deep to walk: then the
//! list is `*` alone. Not so a read of a local of that name (a parameter `globals`), nor `eval`
//! or `exec` called with a namespace of their own as globals (`eval(tp, ns)`): the code they run
//! binds its names there.
//!
//! With them, the attributes the file sets or deletes on an object it names (not `self` or
//! `cls`): `config.Base = X`, `del mod.Base`, `setattr(mod, "Base", X)`, in any scope, and,
//! kept apart, those set on a dotted path of names (`app.config.Base = X`), which may name a module.
//! What another module rebinds this way is only known from the file that does it.
//!
//! Both are gathered during the extractor's one walk of the module: it calls the recording
//! functions of [`Rebinds`] on the nodes it visits, and has the parts it passes over (most
//! assignment targets, annotations, the decorators of classes) walked here. A read of the
//! namespace makes the names `*` but stops nothing: the attributes are those of the whole file
//! (of all of it but a part too deep to walk).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, ExceptHandler, Expr, ExprContext, Pattern};
use ruff_text_size::Ranged;
use thin_vec::ThinVec;

use crate::facts::{Name, intern, sorted_distinct};

use super::{MAX_WALK_DEPTH, literal_text};

/// What the extractor's walk has found of the rebinds so far. The walk calls the recording
/// functions below on the nodes it visits, and [`Rebinds::walk_expr`] (and the functions built on
/// it) on the parts of the tree it passes over (most assignment targets, annotations, the
/// decorators of classes), so that every statement and expression is looked at.
#[derive(Default)]
pub(super) struct Rebinds {
    names: Vec<Name>,
    attributes: Vec<Name>,
    /// `a.b.attr` for an attribute set or deleted on a dotted path of names (`a.b`), which may
    /// name a module (`import app.progress` then `app.progress.attr = v`).
    dotted_attributes: Vec<Name>,
    /// Names whose namespace the file may write by a name it computes: the object of a
    /// `setattr`/`delattr` whose attribute is not a string literal, of `vars(name)`, or of a
    /// `name.__dict__` read. Kept as `*` among the attributes when one of them is imported.
    namespace_objects: Vec<Name>,
    /// The file may rebind any name: it reads the namespace, or nests too deep to walk. Names
    /// are no longer gathered then; attributes still are.
    any: bool,
    /// Where the file may write an attribute of any object by a name it computes (see
    /// [`crate::facts::FileFacts::computed_attribute_writes`]).
    computed_attribute_writes: Vec<u32>,
    /// The starts of `vars(x)` and `x.__dict__` expressions that are only the receiver of a
    /// reading method (`vars(node).items()`): the walk meets the call before its receiver.
    namespace_reads: Vec<u32>,
    /// The starts of the names `eval` and `exec` called with globals of their own
    /// ([`runs_in_own_namespace`]): the walk meets the call before its function.
    own_namespace_runs: Vec<u32>,
    /// The starts of attribute targets that store the running event loop: recorded apart
    /// ([`crate::facts::FileFacts::running_loop_stores`]), not as rebinds.
    running_loop_targets: Vec<u32>,
    /// The names `global` statements declare (among the names at the end).
    declared_global: Vec<Name>,
}

/// The builtins whose read lets a module bind any name: they read or write its namespace, or
/// run code in it.
const NAMESPACE_BUILTINS: &[&str] = &["globals", "vars", "locals", "eval", "exec"];

/// Whether `id` is spelled like one of [`NAMESPACE_BUILTINS`]: the extractor asks, before it
/// looks up whether such a name is a local, which only these need.
#[inline]
pub(super) fn names_a_namespace_builtin(id: &str) -> bool {
    NAMESPACE_BUILTINS.contains(&id)
}

/// Whether `call` is `eval(source, ns, ...)` or `exec(code, ns, ...)` (or `globals=ns`) with a
/// namespace `ns` that is not the module's own: the code it runs binds its names in `ns`. `None`
/// (the caller's globals), an unpacked argument and a namespace read off an object
/// (`f.__globals__`, `module.__dict__`, which may be this module's) do not count; `globals()`
/// and `vars()` are reads of the namespace of their own.
fn runs_in_own_namespace(call: &ast::ExprCall) -> bool {
    let arguments = &call.arguments;
    let globals = arguments
        .args
        .get(1)
        .or_else(|| arguments.find_keyword("globals").map(|k| &k.value));
    !arguments.args.iter().take(2).any(Expr::is_starred_expr)
        && globals.is_some_and(|globals| {
            !matches!(globals, Expr::NoneLiteral(_) | Expr::Starred(_))
                && !matches!(globals, Expr::Attribute(a)
                    if matches!(a.attr.as_str(), "__dict__" | "__globals__"))
        })
}

/// The methods of a dict that only read it: a namespace they are called on is not written.
const NAMESPACE_READING_METHODS: &[&str] = &["items", "keys", "values", "get", "copy"];

/// Whether `expr` is a namespace as an object: `vars(x)` or `x.__dict__`.
fn is_namespace(expr: &Expr) -> bool {
    match expr {
        Expr::Call(call) => {
            matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "vars")
                && call.arguments.args.len() == 1
        }
        Expr::Attribute(attribute) => attribute.attr.as_str() == "__dict__",
        _ => false,
    }
}

/// The rebinds of a whole module ([`Rebinds::finish`]).
pub(super) struct Found {
    pub(super) names: ThinVec<Name>,
    /// Those of `names` that are there only because a `global` statement declares them.
    pub(super) only_declared_global: ThinVec<Name>,
    pub(super) attributes: ThinVec<Name>,
    pub(super) dotted_attributes: ThinVec<Name>,
    pub(super) namespace_writes: ThinVec<Name>,
    pub(super) computed_attribute_writes: ThinVec<u32>,
}

/// Whether `object` is a name other than `self` and `cls`.
fn names_an_object(object: &Expr) -> bool {
    matches!(object, Expr::Name(n) if !matches!(n.id.as_str(), "self" | "cls"))
}

/// `object` as dotted text when it is a path of names (`app.progress`) that starts with a name
/// other than `self` and `cls`: it may name a module the file imported.
fn dotted_path(object: &Expr) -> Option<String> {
    match object {
        Expr::Attribute(attribute) => {
            let mut path = match &*attribute.value {
                Expr::Name(_) if !names_an_object(&attribute.value) => return None,
                Expr::Name(name) => name.id.to_string(),
                inner => dotted_path(inner)?,
            };
            path.push('.');
            path.push_str(attribute.attr.as_str());
            Some(path)
        }
        _ => None,
    }
}

impl Rebinds {
    /// A name node: a target of unpacking, `for`, `with`, `:=`, `del`, `+=`, a comprehension or
    /// a `type` alias, or a read of the namespace (`globals`, `vars`, `locals`, `eval`, `exec`),
    /// unless the name is `local` (bound in a function whose scope the read is in: not the
    /// builtin) or runs code with globals of its own ([`runs_in_own_namespace`]).
    #[inline]
    pub(super) fn name(&mut self, name: &ast::ExprName, local: bool) {
        if self.any {
            return;
        }
        let id = name.id.as_str();
        if name.ctx != ExprContext::Load {
            self.names.push(intern(id));
        } else if names_a_namespace_builtin(id)
            && !local
            && !self
                .own_namespace_runs
                .contains(&name.range().start().to_u32())
        {
            self.any = true;
        }
    }

    /// An attribute node: one stored or deleted on an object the file names.
    #[inline]
    pub(super) fn attribute(&mut self, attribute: &ast::ExprAttribute) {
        if self
            .running_loop_targets
            .contains(&attribute.range().start().to_u32())
        {
            return;
        }
        if attribute.attr.as_str() == "__dict__" {
            self.note_namespace_use(attribute.range().start().to_u32());
        }
        if !names_an_object(&attribute.value) {
            if attribute.ctx != ExprContext::Load {
                self.dotted_attribute(&attribute.value, attribute.attr.as_str());
            }
            return;
        }
        if attribute.ctx != ExprContext::Load {
            self.attributes.push(intern(attribute.attr.as_str()));
        } else if attribute.attr.as_str() == "__dict__" {
            self.namespace_object(&attribute.value);
        }
    }

    /// The attribute target starting at `start` stores the running event loop: it is recorded
    /// apart ([`crate::facts::FileFacts::running_loop_stores`]).
    pub(super) fn skip_attribute(&mut self, start: u32) {
        self.running_loop_targets.push(start);
    }

    /// A read of `x.__dict__` in an expression the extractor walks itself (not a target).
    #[inline]
    pub(super) fn dict_read(&mut self, attribute: &ast::ExprAttribute) {
        self.note_namespace_use(attribute.range().start().to_u32());
    }

    /// A `vars(x)` or `x.__dict__` starting at `start`: a write of the object's attributes by a
    /// computed name unless it is only the receiver of a reading method.
    fn note_namespace_use(&mut self, start: u32) {
        if !self.namespace_reads.contains(&start) {
            self.computed_attribute_writes.push(start);
        }
    }

    /// An attribute `attr` set or deleted on `object`, when `object` is a dotted path of names.
    fn dotted_attribute(&mut self, object: &Expr, attr: &str) {
        if let Some(mut path) = dotted_path(object) {
            path.push('.');
            path.push_str(attr);
            self.dotted_attributes.push(intern(&path));
        }
    }

    fn namespace_object(&mut self, object: &Expr) {
        if let Expr::Name(name) = object {
            self.namespace_objects.push(intern(name.id.as_str()));
        }
    }

    /// A call: `setattr(mod, "name", value)` or `delattr(mod, "name")` on an object the file
    /// names; with a computed name, or `vars(mod)`, a write to any name of the object's namespace.
    #[inline]
    pub(super) fn call(&mut self, call: &ast::ExprCall) {
        let args = &call.arguments.args;
        let function = match &*call.func {
            Expr::Name(function)
                if matches!(function.id.as_str(), "eval" | "exec")
                    && runs_in_own_namespace(call) =>
            {
                self.own_namespace_runs
                    .push(function.range().start().to_u32());
                return;
            }
            Expr::Name(function) => function,
            // `object.__setattr__(self, "on", v)` stores what no attribute assignment shows.
            Expr::Attribute(method) if method.attr.as_str() == "__setattr__" => {
                self.computed_attribute_writes
                    .push(call.range().start().to_u32());
                return;
            }
            Expr::Attribute(method)
                if NAMESPACE_READING_METHODS.contains(&method.attr.as_str())
                    && is_namespace(&method.value) =>
            {
                self.namespace_reads
                    .push(method.value.range().start().to_u32());
                return;
            }
            _ => return,
        };
        match function.id.as_str() {
            "setattr" | "delattr" if !matches!(args.get(1), Some(Expr::StringLiteral(_))) => {
                self.computed_attribute_writes
                    .push(call.range().start().to_u32());
            }
            "vars" if args.len() == 1 => self.note_namespace_use(call.range().start().to_u32()),
            _ => {}
        }
        match function.id.as_str() {
            "setattr" | "delattr" if args.first().is_some_and(names_an_object) => {
                match args.get(1) {
                    Some(Expr::StringLiteral(literal)) => {
                        self.attributes.push(intern(literal_text(&literal.value)));
                    }
                    _ => self.namespace_object(&args[0]),
                }
            }
            "setattr" | "delattr" => {
                if let (Some(object), Some(Expr::StringLiteral(literal))) =
                    (args.first(), args.get(1))
                {
                    self.dotted_attribute(object, literal_text(&literal.value));
                }
            }
            "vars" if args.len() == 1 && names_an_object(&args[0]) => {
                self.namespace_object(&args[0]);
            }
            _ => {}
        }
    }

    /// The names a `global` statement declares.
    pub(super) fn global(&mut self, global: &ast::StmtGlobal) {
        if !self.any {
            self.declared_global
                .extend(global.names.iter().map(|n| intern(n.as_str())));
        }
    }

    /// The name an `except ... as name` binds (its type is an expression, walked as the others).
    pub(super) fn except_handler(&mut self, handler: &ExceptHandler) {
        let ExceptHandler::ExceptHandler(inner) = handler;
        if !self.any
            && let Some(name) = &inner.name
        {
            self.names.push(intern(name.as_str()));
        }
    }

    /// The name a `match` pattern captures (`x`, `*rest`, `**rest`; its sub-patterns are visited
    /// on their own).
    pub(super) fn pattern(&mut self, pattern: &Pattern) {
        match pattern {
            Pattern::MatchAs(ast::PatternMatchAs {
                name: Some(name), ..
            })
            | Pattern::MatchStar(ast::PatternMatchStar {
                name: Some(name), ..
            })
            | Pattern::MatchMapping(ast::PatternMatchMapping {
                rest: Some(name), ..
            }) if !self.any => self.names.push(intern(name.as_str())),
            _ => {}
        }
    }

    /// Looks at all of `expr`, a part of the tree the extractor's walk does not visit, whose
    /// parent statement or expression is `depth` levels deep.
    pub(super) fn walk_expr(&mut self, expr: &Expr, depth: u32) {
        Walk {
            rebinds: self,
            depth,
        }
        .visit_expr(expr);
    }

    /// The targets of `targets = value` (the statement `depth` levels deep) but a bare name: the
    /// one form [`crate::facts::FileFacts::globals`] records at module level (elsewhere a local
    /// or a class attribute, or a `global` name, which counts on its own).
    pub(super) fn assign_targets(&mut self, targets: &[Expr], depth: u32) {
        for target in targets {
            if !matches!(target, Expr::Name(_)) {
                self.walk_expr(target, depth);
            }
        }
    }

    /// The annotation of `target: annotation = value`, and the target unless it is a bare name
    /// (see [`Rebinds::assign_targets`]).
    pub(super) fn annotated_target(&mut self, assign: &ast::StmtAnnAssign, depth: u32) {
        self.walk_expr(&assign.annotation, depth);
        self.assign_targets(std::slice::from_ref(&assign.target), depth);
    }

    /// The decorators and type parameters of a class.
    pub(super) fn class_header(&mut self, class: &ast::StmtClassDef, depth: u32) {
        let mut walk = Walk {
            rebinds: self,
            depth,
        };
        for decorator in &class.decorator_list {
            walk.visit_decorator(decorator);
        }
        if let Some(type_params) = &class.type_params {
            walk.visit_type_params(type_params);
        }
    }

    /// The type parameters, the parameters' annotations and the return annotation of a
    /// function (its decorators and defaults are visited by the extractor's walk).
    pub(super) fn function_header(&mut self, function: &ast::StmtFunctionDef, depth: u32) {
        let mut walk = Walk {
            rebinds: self,
            depth,
        };
        if let Some(type_params) = &function.type_params {
            walk.visit_type_params(type_params);
        }
        for parameter in function.parameters.iter() {
            walk.visit_parameter(parameter.as_parameter());
        }
        if let Some(returns) = &function.returns {
            walk.visit_annotation(returns);
        }
    }

    /// What the walk found, each list sorted and without repeats: the names the module may
    /// rebind other than by a module-level `name = value` (`*` alone when it may rebind any
    /// name), the attributes it sets on objects it names and on dotted paths of names (as
    /// `a.b.attr`), and the imported names whose namespace it may write by a name it computes.
    /// `hit_depth_limit`: whether the extractor's walk passed over a part of the module because
    /// it nests too deep. `imported`: whether the file binds a name by an import (in any scope).
    pub(super) fn finish(self, hit_depth_limit: bool, imported: impl Fn(&Name) -> bool) -> Found {
        let (names, only_declared_global) = if self.any || hit_depth_limit {
            (std::iter::once(intern("*")).collect(), ThinVec::new())
        } else {
            let others = sorted_distinct(self.names);
            let only_declared_global: ThinVec<Name> = sorted_distinct(
                self.declared_global
                    .iter()
                    .copied()
                    .filter(|name| others.binary_search(name).is_err()),
            );
            (
                sorted_distinct(others.into_iter().chain(self.declared_global)),
                only_declared_global,
            )
        };
        let namespace_writes: Vec<Name> = self
            .namespace_objects
            .into_iter()
            .filter(|name| imported(name))
            .collect();
        Found {
            names,
            only_declared_global,
            attributes: sorted_distinct(self.attributes),
            dotted_attributes: sorted_distinct(self.dotted_attributes),
            namespace_writes: sorted_distinct(namespace_writes),
            computed_attribute_writes: self.computed_attribute_writes.into_iter().collect(),
        }
    }
}

/// A walk that records the rebinds of every node below the one it starts from, down to the
/// depth the extractor's walk goes to.
struct Walk<'r> {
    rebinds: &'r mut Rebinds,
    depth: u32,
}

impl<'a> Visitor<'a> for Walk<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.rebinds.any = true;
        } else {
            match expr {
                Expr::Attribute(attribute) => {
                    self.rebinds.attribute(attribute);
                    visitor::walk_expr(self, expr);
                }
                Expr::Call(call) => {
                    self.rebinds.call(call);
                    visitor::walk_expr(self, expr);
                }
                // Parts the extractor passes over are not placed in a scope: a name there is
                // taken for the builtin.
                Expr::Name(name) => self.rebinds.name(name, false),
                _ => visitor::walk_expr(self, expr),
            }
        }
        self.depth -= 1;
    }

    fn visit_except_handler(&mut self, handler: &'a ExceptHandler) {
        self.rebinds.except_handler(handler);
        visitor::walk_except_handler(self, handler);
    }

    fn visit_pattern(&mut self, pattern: &'a Pattern) {
        self.rebinds.pattern(pattern);
        visitor::walk_pattern(self, pattern);
    }
}

#[cfg(test)]
mod tests {
    fn rebinds(source: &str) -> (Vec<String>, Vec<String>) {
        let facts = crate::syntax::extract(source).expect("parses");
        let text = |names: &[crate::facts::Name]| names.iter().map(|n| n.to_string()).collect();
        (text(&facts.other_rebinds), text(&facts.attribute_rebinds))
    }

    fn namespace_writes(source: &str) -> Vec<String> {
        let facts = crate::syntax::extract(source).expect("parses");
        facts
            .namespace_writes
            .iter()
            .map(|n| n.to_string())
            .collect()
    }

    #[test]
    fn a_namespace_written_by_a_computed_name_is_recorded_when_it_is_imported() {
        let source = "\
import settings
from app import config as conf
def load(options, local):
    for name, value in options.items():
        setattr(settings, name, value)
        vars(conf)[name] = value
        local.__dict__[name] = value
        setattr(settings, 'FIXED', value)
";
        assert_eq!(namespace_writes(source), ["conf", "settings"]);
        assert_eq!(rebinds(source).1, ["FIXED"]);
    }

    #[test]
    fn attributes_written_by_a_computed_name_are_noted_but_reads_of_a_namespace_are_not() {
        let written = |source: &str| {
            crate::syntax::extract(source)
                .expect("parses")
                .writes_computed_attributes()
        };
        assert!(!written(
            "def f(node):\n    for k, v in vars(node).items():\n        print(k)\n    return node.__dict__.get('x')\n"
        ));
        assert!(!written("def f(o, v):\n    setattr(o, 'on', v)\n"));
        assert!(written("def f(o, n, v):\n    setattr(o, n, v)\n"));
        assert!(written("def f(o, v):\n    vars(o)['on'] = v\n"));
        assert!(written("def f(self, v):\n    self.__dict__.update(v)\n"));
        assert!(written(
            "def f(self, v):\n    object.__setattr__(self, 'on', v)\n"
        ));
        assert!(written("def f(o):\n    d = vars(o)\n    d['on'] = 1\n"));
    }

    #[test]
    fn every_other_form_of_binding_is_recorded() {
        let source = "\
Base = object
a, b = 1, 2
for c in (): pass
with open('f') as d: pass
try: pass
except Exception as e: pass
match 1:
    case [f, *g]: pass
    case {**h}: pass
if (i := 1): pass
del Base
j = 0
j += 1
def k():
    global m
    n = 1
class C:
    o = 1
    def p(self):
        self.q = 1
        mod.r = 2
        setattr(mod, 's', 3)
        del mod.t
";
        let (names, attributes) = rebinds(source);
        assert_eq!(
            names,
            [
                "Base", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "m"
            ]
        );
        assert_eq!(attributes, ["r", "s", "t"]);
    }

    /// Every form of binding in every scope, and in each place the extractor's walk passes over.
    const EVERY_PLACE: &str = "\
import os as o1
from m import n1
@deco(kd := 1)
class C[T: Bound](Base, metaclass=(km := M)):
    a1, b1 = 1, 2
    c1: int
    mod.c2: int = 1
    mod.c3 = 1
    for c4, mod.c5 in (): pass
    def m(self, p: (ka := int) = (kb := 1), *args: (kc := 1), **kw: (kd2 := 1)) -> (kr := 1):
        a, b = 1, 2
        [c, *d] = x[(ki := 1)] = mod.e = self.ne = 1
        mod.f: int = 2
        mod.g: (kg := int)
        h: int
        i += 1
        mod.j += 1
        x[(kx := 1)] += 1
        del mod.k, l, x[(kl := 1)]
        for m1, mod.m2 in []: pass
        with open() as (w1, mod.w2), other() as w3: pass
        try:
            return 1
        except (E, (ke := F)) as err1:
            pass
        try:
            pass
        except E as err2:
            pass
        match x:
            case {'a': aa, **rest}: pass
            case [1, *st]: pass
            case C(k=kk) as whole: pass
        [mod.c6 for mod.c7 in y if (kif := 1)]  # c6 is read
        (walrus := 3)
        f = lambda q=(kq := 1): q
        setattr(mod, 'sa', 1)
        delattr(mod, 'da')
        setattr(self, 'ns', 1)
        setattr(cls, 'nc', 1)
        global G
        nonlocal_name = 1
        type TA = int
        def inner():
            nonlocal nonlocal_name
            global G2
            mod.inner_attr = 1
            async with a as aw: pass
            async for af in b: pass
a2, b2 = 1, 2
x2: int
mod.mx: int = 1
mod.my: (ky := int)
mod.mz = 1
mod.maug += 1
vv += 1
del mod.mdel, vdel
for f1, mod.f2 in (): pass
with open() as (w4, mod.w5): pass
try:
    pass
except E as err3:
    pass
match y:
    case [*st2]: pass
type TB[U] = list[U]
def fn[V: Bound](x: int) -> int:
    return x
setattr(mod, 'sb', 1)
global G3
";

    #[test]
    fn every_place_the_walk_passes_over_is_looked_at() {
        let (names, attributes) = rebinds(EVERY_PLACE);
        let holds = |list: &[String], words: &str| -> Vec<bool> {
            words
                .split_whitespace()
                .map(|word| list.iter().any(|n| n == word))
                .collect()
        };
        let names_found = "G G2 G3 TA TB a a1 a2 aa af aw b b1 b2 c c4 d err1 err2 err3 f1 i ka \
            kb kc kd kd2 ke kg ki kif kk kl km kq kr kx ky l m1 rest st st2 vdel vv w1 w3 w4 \
            walrus whole";
        assert_eq!(
            names.join(" "),
            names_found.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        let attributes_found = "c2 c3 c5 c7 da e f f2 g inner_attr j k m2 maug mdel mx my mz \
            sa sb w2 w5";
        assert_eq!(
            attributes.join(" "),
            attributes_found
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
        let not_rebound = "x2 h f nonlocal_name o1 n1 C m fn";
        assert!(holds(&names, not_rebound).iter().all(|held| !held));
    }

    #[test]
    fn a_read_of_the_namespace_is_found_wherever_it_is() {
        let places = [
            "@vars\nclass C: pass\n",
            "class C[T: vars]: pass\n",
            "def f(x: vars): pass\n",
            "def f(*x: vars): pass\n",
            "def f() -> vars: pass\n",
            "def f[T: vars](): pass\n",
            "x: vars = 1\n",
            "mod.x: vars\n",
            "globals()['x'] = 1\n",
            "def f():\n    x: vars\n",
            "def f():\n    vars[0] = 1\n",
            "def f():\n    a, eval.x = 1, 2\n",
            "def f():\n    vars[0] += 1\n",
            "def f():\n    del vars[0]\n",
            "def f():\n    for exec[0] in (): pass\n",
            "def f():\n    with a as locals[0]: pass\n",
            "def f():\n    try:\n        return 1\n    except vars:\n        pass\n",
            "def f():\n    match x:\n        case vars.X: pass\n",
            "def f():\n    return [1 for x in globals()]\n",
        ];
        for source in places {
            assert_eq!(rebinds(source).0, ["*"], "{source}");
        }
    }

    #[test]
    fn a_read_of_the_namespace_leaves_every_attribute_recorded() {
        let source = "mod.a = 1\ndef f():\n    mod.b = locals()\n    mod.c = 3\n    \
                      setattr(mod, 'd', 4)\n    x, mod.e = 5, 6\n";
        let (names, attributes) = rebinds(source);
        assert_eq!(names, ["*"]);
        assert_eq!(attributes, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_target_too_deep_to_walk_may_bind_any_name() {
        // The extractor's walk passes over the chain of attributes of a target, which is walked
        // here, counting its depth from the statement, as the extractor counts it: the function
        // is at depth 1, the assignment at 2, and the name `x` below a chain of n attributes at
        // n + 3.
        let deep = std::thread::Builder::new()
            .stack_size(crate::syntax::STACK_SIZE)
            .spawn(|| {
                let chain = ".b".repeat(super::MAX_WALK_DEPTH as usize - 2);
                let too_deep = format!("def f():\n    x{chain} = 1\n");
                let shallow = format!("def f():\n    x{} = 1\n", &chain[2..]);
                (rebinds(&too_deep), rebinds(&shallow))
            })
            .expect("spawns")
            .join()
            .expect("walks");
        assert_eq!(deep.0, (vec!["*".to_string()], vec![]));
        assert_eq!(deep.1, (vec![], vec![]));
    }

    #[test]
    fn code_run_with_globals_of_its_own_binds_no_name_of_the_module() {
        let own = [
            "def f(tp, globals, locals):\n    return eval(tp, globals, locals)\n",
            "def f(tp, ns):\n    return eval(tp, ns)\n",
            "def f(code):\n    exec(code, {})\n",
            "def f(code, ns):\n    exec(code, globals=ns)\n",
            "def f(tp, g):\n    locals = g\n    return eval(tp, g, locals)\n",
        ];
        for source in own {
            assert_eq!(rebinds(source).0, Vec::<String>::new(), "{source}");
        }
        let module = [
            "def f(code):\n    exec(code)\n",
            "def f(tp):\n    return eval(tp)\n",
            "def f(code):\n    exec(code, None)\n",
            "def f(code, args):\n    exec(code, *args)\n",
            "def f(code):\n    exec(code, globals())\n",
            "def f(code):\n    exec(code, f.__globals__)\n",
            "def f(code, mod):\n    exec(code, mod.__dict__)\n",
            "def f(tp):\n    return eval(tp, vars())\n",
            "runner = exec\n",
            "def f(name, value):\n    globals()[name] = value\n",
            "def f(globals):\n    def g():\n        return locals()\n",
        ];
        for source in module {
            assert_eq!(rebinds(source).0, ["*"], "{source}");
        }
    }

    #[test]
    fn reading_the_namespace_may_bind_any_name() {
        let (names, _) = rebinds("Base = object\nglobals()['Base'] = int\n");
        assert_eq!(names, ["*"]);
    }
}
