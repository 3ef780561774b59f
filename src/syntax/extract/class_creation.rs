//! What class-creation hooks do to every class they make, in shapes whose effect is certain:
//!
//! - a metaclass's `__new__` that takes values out of the class body's namespace before it makes
//!   the class from it (`type.__new__` copies the namespace: a name deleted before is no
//!   attribute of the class), itself or through a function it hands the namespace to;
//! - a metaclass's `__init__` that applies `dataclasses.dataclass` to the class it is given
//!   (itself, or through `super().__init__(...)`), which refuses a list, dict or set as a field's
//!   default.
//!
//! Each holds on every path through the function that does not raise (raising, the hook makes no
//! class): the statements that do it are statements of the function's own body, and no statement
//! before them may return, yield or rebind the parameter they work on.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};

use crate::facts::{FuncIdx, FunctionKind, Name, NamespaceRemoval, NamespaceRewrite};
use crate::syntax::literal_text;

use super::{MAX_WALK_DEPTH, dotted_name, may_return};

/// What `function` (at index `idx`, of `kind`) does provably to the namespace or class it is
/// given: appended to the file's facts.
pub(super) fn scan(
    function: &ast::StmtFunctionDef,
    kind: FunctionKind,
    idx: FuncIdx,
    removals: &mut Vec<NamespaceRemoval>,
    rewrites: &mut Vec<NamespaceRewrite>,
    dataclass_inits: &mut Vec<(FuncIdx, Name)>,
    super_inits: &mut Vec<FuncIdx>,
) {
    if function.is_async {
        return;
    }
    let params: Vec<&str> = function
        .parameters
        .posonlyargs
        .iter()
        .chain(&function.parameters.args)
        .map(|p| p.parameter.name.as_str())
        .collect();
    // Every function of every file comes here: the shapes are told apart by the top-level
    // statements first, so that only the few candidates pay for the walks below.
    let candidate = match kind {
        FunctionKind::Module => params
            .iter()
            .any(|param| loops_over_items_of(&function.body, param)),
        FunctionKind::Instance | FunctionKind::ClassMethod | FunctionKind::StaticMethod => {
            match function.name.as_str() {
                "__new__" => params.len() > 3,
                "__init__" if kind == FunctionKind::Instance => params
                    .first()
                    .is_some_and(|class| last_init_hook(&function.body, class).is_some()),
                _ => false,
            }
        }
        _ => false,
    };
    if !candidate || Scan::of_body(&function.body, None).yields {
        return;
    }
    match kind {
        FunctionKind::Module => {
            for (index, param) in params.iter().enumerate() {
                if !loops_over_items_of(&function.body, param) {
                    continue;
                }
                if let Some(classes) = removed_on_every_call(&function.body, param) {
                    removals.push(NamespaceRemoval {
                        function: idx,
                        param: index as u32,
                        classes,
                    });
                }
            }
        }
        FunctionKind::Instance | FunctionKind::ClassMethod | FunctionKind::StaticMethod => {
            match function.name.as_str() {
                // `__new__(mcs, name, bases, namespace)`.
                "__new__" => {
                    if let Some(namespace) = params.get(3)
                        && let Some(rewrite) = rewrite_before_creation(&function.body, namespace)
                    {
                        rewrites.push(NamespaceRewrite {
                            function: idx,
                            ..rewrite
                        });
                    }
                }
                "__init__" if kind == FunctionKind::Instance => {
                    if let Some(class) = params.first() {
                        scan_init(function, idx, class, dataclass_inits, super_inits);
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

/// A metaclass's `__init__(cls, ...)`: whether a statement of its own body, before any that may
/// return, applies a decorator to `cls` (`dataclass(cls)`, `dataclass(eq=False)(cls)`: the
/// decorator as written), or calls `super().__init__(...)`.
fn scan_init(
    function: &ast::StmtFunctionDef,
    idx: FuncIdx,
    class: &str,
    dataclass_inits: &mut Vec<(FuncIdx, Name)>,
    super_inits: &mut Vec<FuncIdx>,
) {
    let Some(last) = last_init_hook(&function.body, class) else {
        return;
    };
    let mut supered = false;
    // Statements after the last hook can add nothing.
    for stmt in &function.body[..=last] {
        if Scan::of_stmt(stmt, Some(class)).rebinds {
            break;
        }
        if let Some(call) = statement_call(stmt) {
            // Every call of that shape: `vars(cls)` is one too, and only the link tells which
            // name is a decorator.
            if let Some(decorator) = decorator_applied_to(call, class) {
                dataclass_inits.push((idx, decorator));
            }
            if !supered && is_super_init(call) {
                super_inits.push(idx);
                supered = true;
            }
        }
        if may_return(stmt) {
            break;
        }
    }
}

/// The position of the last statement of a metaclass `__init__`'s own body that applies a
/// decorator to `class` or calls `super().__init__(...)`.
fn last_init_hook(body: &[Stmt], class: &str) -> Option<usize> {
    body.iter().rposition(|stmt| {
        statement_call(stmt)
            .is_some_and(|call| decorator_applied_to(call, class).is_some() || is_super_init(call))
    })
}

/// Whether a statement of `body` itself is a loop over `namespace.items()`: what every removal
/// of a module-level function needs.
fn loops_over_items_of(body: &[Stmt], namespace: &str) -> bool {
    body.iter().any(
        |stmt| matches!(stmt, Stmt::For(for_stmt) if iterates_items_of(&for_stmt.iter, namespace)),
    )
}

/// The call a statement of its own is: `f(...)`, `x = f(...)`.
fn statement_call(stmt: &Stmt) -> Option<&ast::ExprCall> {
    let value = match stmt {
        Stmt::Expr(s) => &s.value,
        Stmt::Assign(s) => &s.value,
        _ => return None,
    };
    match &**value {
        Expr::Call(call) => Some(call),
        _ => None,
    }
}

/// The decorator `call` applies to the name `class`: `D(class)` or `D(...)(class)`, `D` dotted.
fn decorator_applied_to(call: &ast::ExprCall, class: &str) -> Option<Name> {
    let [Expr::Name(argument)] = &*call.arguments.args else {
        return None;
    };
    if argument.id.as_str() != class || !call.arguments.keywords.is_empty() {
        return None;
    }
    match &*call.func {
        Expr::Call(inner) => dotted_name(&inner.func),
        other => dotted_name(other),
    }
}

/// `super().__init__(...)`.
fn is_super_init(call: &ast::ExprCall) -> bool {
    let Expr::Attribute(attribute) = &*call.func else {
        return false;
    };
    attribute.attr.as_str() == "__init__"
        && matches!(&*attribute.value, Expr::Call(inner)
            if matches!(&*inner.func, Expr::Name(n) if n.id.as_str() == "super"))
}

/// What a metaclass's `__new__` does to its `namespace` parameter before the statement that
/// makes the class from it (`super().__new__(mcs, name, bases, namespace)`, or any
/// `X.__new__(...)` given the namespace fourth): the classes its own loop takes out, and the
/// functions it hands the namespace to. `None` when no such statement comes before one that may
/// return or that rebinds the parameter, when nothing is done to the namespace, or when what was
/// taken out may go back: the namespace is written (other than under a `__dunder__` key) or
/// handed on again between the first removal and the creation, or the created class is handed,
/// after its creation, to `setattr` or to a call that is also handed a value that may come from
/// the namespace (`setattr(cls, key, value)`, `cls.add_to_class(key, value)`).
fn rewrite_before_creation(body: &[Stmt], namespace: &str) -> Option<NamespaceRewrite> {
    let mut rewrite = NamespaceRewrite {
        function: 0,
        removed: Vec::new(),
        handed_to: Vec::new(),
    };
    for (index, stmt) in body.iter().enumerate() {
        let started = !rewrite.removed.is_empty() || !rewrite.handed_to.is_empty();
        if creates_class_from(stmt, namespace) {
            if !started || !class_kept_apart(stmt, &body[index + 1..], body, namespace) {
                return None;
            }
            return Some(rewrite);
        }
        if may_return(stmt) || Scan::of_stmt(stmt, Some(namespace)).rebinds {
            return None;
        }
        if let Some(classes) = removed_by_loop(stmt, namespace) {
            rewrite.removed.extend(classes);
            continue;
        }
        if started && NamespaceWrites::in_body(std::slice::from_ref(stmt), namespace) {
            return None;
        }
        if let Some(call) = statement_call(stmt)
            && let Some(callee) = dotted_name(&call.func)
        {
            let args = &call.arguments.args;
            let before_starred = args
                .iter()
                .position(|a| matches!(a, Expr::Starred(_)))
                .unwrap_or(args.len());
            if let Some(position) = args[..before_starred]
                .iter()
                .position(|a| matches!(a, Expr::Name(n) if n.id.as_str() == namespace))
            {
                rewrite.handed_to.push((callee, position as u32));
            }
        }
    }
    None
}

/// Whether the class `creation` makes stays without the values taken out of `namespace`: it is
/// returned at once, or bound to a name that no statement of `after` hands to `setattr`, or to a
/// call (or an assignment) that also gets a value that may come from the namespace (a name
/// anything in `body` derives from it).
fn class_kept_apart(creation: &Stmt, after: &[Stmt], body: &[Stmt], namespace: &str) -> bool {
    let class = match creation {
        Stmt::Return(_) => return true,
        Stmt::Assign(assign) => match &*assign.targets {
            [Expr::Name(n)] => n.id.as_str(),
            _ => return false,
        },
        _ => return false,
    };
    let from_namespace = derived_names(body, &[namespace]);
    let class_names = derived_names(after, &[class]);
    let mut check = ReaddCheck {
        class_names: &class_names,
        from_namespace: &from_namespace,
        readds: false,
        depth: 0,
    };
    check.visit_body(after);
    !check.readds
}

/// The names that may hold (or hold something made from) what `seeds` hold: `seeds`, and every
/// name bound, or changed through a method call or item assignment, by a statement whose value
/// mentions one of them, to a fixed point. Order-blind, so a later binding counts too.
fn derived_names<'b>(body: &'b [Stmt], seeds: &[&'b str]) -> Vec<&'b str> {
    let mut flows = Flows::default();
    flows.visit_body(body);
    let mut derived: Vec<&str> = seeds.to_vec();
    loop {
        let before = derived.len();
        for (sources, targets) in &flows.edges {
            if flows.overflow || sources.iter().any(|s| derived.contains(s)) {
                for target in targets {
                    if !derived.contains(target) {
                        derived.push(target);
                    }
                }
            }
        }
        if derived.len() == before {
            return derived;
        }
    }
}

/// A walk that stops at [`MAX_WALK_DEPTH`]: code nested deeper is refused before extraction, and
/// the cut keeps a hand-made tree from exhausting the stack. Past it, a walker assumes whatever
/// claims nothing (a flow it cannot see, a write, a yield).
trait BoundedWalk: Sized {
    fn depth(&mut self) -> &mut u32;
    /// What the code below the cut may have done, assumed.
    fn assume_worst_below(&mut self);

    /// `walk` one level deeper, unless that passes the bound.
    fn deeper(&mut self, walk: impl FnOnce(&mut Self)) {
        *self.depth() += 1;
        if *self.depth() > MAX_WALK_DEPTH {
            self.assume_worst_below();
        } else {
            walk(self);
        }
        *self.depth() -= 1;
    }
}

macro_rules! bounded_walk {
    ($walker:ident, |$this:ident| $worst:expr) => {
        impl BoundedWalk for $walker<'_> {
            fn depth(&mut self) -> &mut u32 {
                &mut self.depth
            }
            fn assume_worst_below(&mut self) {
                let $this = self;
                $worst;
            }
        }
    };
}

bounded_walk!(Flows, |walker| walker.overflow = true);
bounded_walk!(NameCollector, |walker| walker.overflow = true);
bounded_walk!(NamespaceWrites, |walker| walker.writes = true);
bounded_walk!(Scan, |walker| {
    walker.rebinds = true;
    walker.yields = true;
});

impl BoundedWalk for ReaddCheck<'_, '_> {
    fn depth(&mut self) -> &mut u32 {
        &mut self.depth
    }
    fn assume_worst_below(&mut self) {
        self.readds = true;
    }
}

/// Each statement's (and each method call's) flow: the names its value mentions, and the names
/// it binds or changes.
#[derive(Default)]
struct Flows<'b> {
    edges: Vec<(Vec<&'b str>, Vec<&'b str>)>,
    overflow: bool,
    depth: u32,
}

impl<'b> Visitor<'b> for Flows<'b> {
    fn visit_stmt(&mut self, stmt: &'b Stmt) {
        let edge = match stmt {
            Stmt::Assign(s) => Some((
                names_in(&s.value),
                s.targets.iter().flat_map(names_in).collect(),
            )),
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) => Some((names_in(value), names_in(target))),
            Stmt::AugAssign(s) => Some((names_in(&s.value), names_in(&s.target))),
            Stmt::For(s) => Some((names_in(&s.iter), names_in(&s.target))),
            Stmt::With(s) => Some((
                s.items
                    .iter()
                    .flat_map(|i| names_in(&i.context_expr))
                    .collect(),
                s.items
                    .iter()
                    .filter_map(|i| i.optional_vars.as_deref())
                    .flat_map(names_in)
                    .collect(),
            )),
            _ => None,
        };
        self.edges.extend(edge);
        self.deeper(|walker| visitor::walk_stmt(walker, stmt));
    }

    fn visit_expr(&mut self, expr: &'b Expr) {
        match expr {
            // `fields.append(value)`, `fields.update(namespace)`: the receiver takes the values.
            Expr::Call(call) => {
                if let Expr::Attribute(attribute) = &*call.func {
                    let sources: Vec<&str> = call
                        .arguments
                        .args
                        .iter()
                        .chain(call.arguments.keywords.iter().map(|k| &k.value))
                        .flat_map(names_in)
                        .collect();
                    self.edges.push((sources, names_in(&attribute.value)));
                }
            }
            Expr::Named(named) => self
                .edges
                .push((names_in(&named.value), names_in(&named.target))),
            _ => {}
        }
        self.deeper(|walker| visitor::walk_expr(walker, expr));
    }
}

/// Every name `expr` mentions, lambdas and comprehensions included (one the walk cuts short
/// mentions `*`, which no flow matches but every check treats as unknown).
fn names_in(expr: &Expr) -> Vec<&str> {
    let mut names = NameCollector::default();
    names.visit_expr(expr);
    if names.overflow {
        names.names.push("*");
    }
    names.names
}

#[derive(Default)]
struct NameCollector<'b> {
    names: Vec<&'b str>,
    overflow: bool,
    depth: u32,
}

impl<'b> Visitor<'b> for NameCollector<'b> {
    fn visit_expr(&mut self, expr: &'b Expr) {
        if let Expr::Name(name) = expr {
            self.names.push(name.id.as_str());
        }
        self.deeper(|walker| visitor::walk_expr(walker, expr));
    }
}

/// After the class is made: whether a call or assignment may put a value from the namespace on
/// it (`setattr(cls, ...)`, a call handed both the class and such a value, `cls.x = value`).
struct ReaddCheck<'c, 'b> {
    class_names: &'c [&'b str],
    from_namespace: &'c [&'b str],
    readds: bool,
    depth: u32,
}

impl ReaddCheck<'_, '_> {
    fn mentions(names: &[&str], of: &[&str]) -> bool {
        names.iter().any(|n| *n == "*" || of.contains(n))
    }
}

impl<'b> Visitor<'b> for ReaddCheck<'_, 'b> {
    fn visit_stmt(&mut self, stmt: &'b Stmt) {
        let (targets, value): (Vec<&str>, Vec<&str>) = match stmt {
            Stmt::Assign(s) => (
                s.targets.iter().flat_map(names_in).collect(),
                names_in(&s.value),
            ),
            Stmt::AnnAssign(ast::StmtAnnAssign {
                target,
                value: Some(value),
                ..
            }) => (names_in(target), names_in(value)),
            Stmt::AugAssign(s) => (names_in(&s.target), names_in(&s.value)),
            _ => (Vec::new(), Vec::new()),
        };
        if Self::mentions(&targets, self.class_names) && Self::mentions(&value, self.from_namespace)
        {
            self.readds = true;
        }
        self.deeper(|walker| visitor::walk_stmt(walker, stmt));
    }

    fn visit_expr(&mut self, expr: &'b Expr) {
        if let Expr::Call(call) = expr {
            let handed: Vec<&str> = std::iter::once(&*call.func)
                .chain(&call.arguments.args)
                .chain(call.arguments.keywords.iter().map(|k| &k.value))
                .flat_map(names_in)
                .collect();
            let is_setattr = match &*call.func {
                Expr::Name(n) => n.id.as_str() == "setattr",
                Expr::Attribute(a) => a.attr.as_str() == "__setattr__",
                _ => false,
            };
            if Self::mentions(&handed, self.class_names)
                && (is_setattr || Self::mentions(&handed, self.from_namespace))
            {
                self.readds = true;
            }
        }
        self.deeper(|walker| visitor::walk_expr(walker, expr));
    }
}

/// Whether code writes to the dict `namespace` other than by deleting items or setting a
/// `__dunder__` key, or lets it escape (hands it to a call, aliases it): reads are `ns[k]`,
/// `k in ns`, `for k in ns`, `ns.get/items/keys/values/copy(...)`, `dict/list/tuple/len(ns)`.
/// Nested functions count as code here.
struct NamespaceWrites<'n> {
    namespace: &'n str,
    writes: bool,
    depth: u32,
}

impl NamespaceWrites<'_> {
    fn in_body(body: &[Stmt], namespace: &str) -> bool {
        let mut scan = NamespaceWrites {
            namespace,
            writes: false,
            depth: 0,
        };
        scan.visit_body(body);
        scan.writes
    }

    fn is_namespace(&self, expr: &Expr) -> bool {
        matches!(expr, Expr::Name(n) if n.id.as_str() == self.namespace)
    }

    /// `ns[...]`: its key, visited on its own.
    fn item_of_namespace<'e>(&self, expr: &'e Expr) -> Option<&'e Expr> {
        match expr {
            Expr::Subscript(s) if self.is_namespace(&s.value) => Some(&s.slice),
            _ => None,
        }
    }
}

impl<'a> Visitor<'a> for NamespaceWrites<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        self.deeper(|walker| walker.scan_stmt(stmt));
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        self.deeper(|walker| walker.scan_expr(expr));
    }
}

impl NamespaceWrites<'_> {
    fn scan_stmt(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::Delete(delete) => {
                for target in &delete.targets {
                    match self.item_of_namespace(target) {
                        Some(key) => self.visit_expr(key),
                        None => self.visit_expr(target),
                    }
                }
            }
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    match self.item_of_namespace(target) {
                        Some(Expr::StringLiteral(key))
                            if {
                                let key = literal_text(&key.value);
                                key.len() > 4 && key.starts_with("__") && key.ends_with("__")
                            } => {}
                        _ => self.visit_expr(target),
                    }
                }
                self.visit_expr(&assign.value);
            }
            Stmt::For(for_stmt) if self.is_namespace(&for_stmt.iter) => {
                self.visit_expr(&for_stmt.target);
                self.visit_body(&for_stmt.body);
                self.visit_body(&for_stmt.orelse);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn scan_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(name) if name.id.as_str() == self.namespace => self.writes = true,
            Expr::Subscript(s) if self.is_namespace(&s.value) && s.ctx.is_load() => {
                self.visit_expr(&s.slice);
            }
            Expr::Call(call)
                if matches!(&*call.func, Expr::Attribute(a)
                    if self.is_namespace(&a.value)
                        && matches!(a.attr.as_str(), "get" | "items" | "keys" | "values" | "copy")) =>
            {
                self.visit_arguments(&call.arguments);
            }
            Expr::Call(call)
                if matches!(&*call.func, Expr::Name(n)
                    if matches!(n.id.as_str(), "dict" | "list" | "tuple" | "len")) =>
            {
                for argument in &call.arguments.args {
                    if !self.is_namespace(argument) {
                        self.visit_expr(argument);
                    }
                }
                for keyword in &call.arguments.keywords {
                    self.visit_expr(&keyword.value);
                }
            }
            Expr::Compare(compare)
                if compare
                    .ops
                    .iter()
                    .all(|op| matches!(op, ast::CmpOp::In | ast::CmpOp::NotIn)) =>
            {
                self.visit_expr(&compare.left);
                for comparator in &compare.comparators {
                    if !self.is_namespace(comparator) {
                        self.visit_expr(comparator);
                    }
                }
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// Whether code (not counting the functions, classes and lambdas it defines) may leave a loop
/// early or skip the rest of an iteration: `break`, `continue`, `return`.
fn jumps(body: &[Stmt]) -> bool {
    body.iter().any(|stmt| match stmt {
        Stmt::Break(_) | Stmt::Continue(_) | Stmt::Return(_) => true,
        Stmt::FunctionDef(_) | Stmt::ClassDef(_) => false,
        Stmt::If(s) => jumps(&s.body) || s.elif_else_clauses.iter().any(|c| jumps(&c.body)),
        Stmt::For(s) => jumps(&s.body) || jumps(&s.orelse),
        Stmt::While(s) => jumps(&s.body) || jumps(&s.orelse),
        Stmt::With(s) => jumps(&s.body),
        Stmt::Try(s) => {
            jumps(&s.body)
                || jumps(&s.orelse)
                || jumps(&s.finalbody)
                || s.handlers.iter().any(|h| {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    jumps(&h.body)
                })
        }
        Stmt::Match(s) => s.cases.iter().any(|c| jumps(&c.body)),
        _ => false,
    })
}

/// Whether `stmt` is (or assigns, or returns) `X.__new__(a, b, c, namespace, ...)`.
fn creates_class_from(stmt: &Stmt, namespace: &str) -> bool {
    let value = match stmt {
        Stmt::Expr(s) => &s.value,
        Stmt::Assign(s) => &s.value,
        Stmt::Return(ast::StmtReturn {
            value: Some(value), ..
        }) => value,
        _ => return false,
    };
    let Expr::Call(call) = &**value else {
        return false;
    };
    matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "__new__")
        && call
            .arguments
            .args
            .iter()
            .take(4)
            .all(|a| !matches!(a, Expr::Starred(_)))
        && matches!(call.arguments.args.get(3), Some(Expr::Name(n)) if n.id.as_str() == namespace)
}

/// The classes a module-level function's loop over its parameter `param` takes out of it, when
/// the loop is a statement of the function's own body that no statement before it may skip
/// (return, yield) and none rebinds `param` before.
fn removed_on_every_call(body: &[Stmt], param: &str) -> Option<Vec<Name>> {
    for (index, stmt) in body.iter().enumerate() {
        if let Some(classes) = removed_by_loop(stmt, param) {
            // What the loop took out may be put back before the caller makes the class.
            return (!NamespaceWrites::in_body(&body[index + 1..], param)).then_some(classes);
        }
        if may_return(stmt) || Scan::of_stmt(stmt, Some(param)).rebinds {
            return None;
        }
    }
    None
}

/// `for name, value in namespace.items():` (or over `tuple(...)`/`list(...)` of it), with no
/// `break`, `continue` or `return` in it and no write to the namespace but the deletions, whose
/// first statement is an `if`/`elif` chain of `isinstance(value, C)` tests, each branch starting with
/// `del namespace[name]`: the classes `C` of the branches up to the first that is not of that
/// shape (a value an earlier branch picks is taken out too; one an earlier branch of another
/// shape picks might not be).
fn removed_by_loop(stmt: &Stmt, namespace: &str) -> Option<Vec<Name>> {
    let Stmt::For(for_stmt) = stmt else {
        return None;
    };
    if for_stmt.is_async || !iterates_items_of(&for_stmt.iter, namespace) {
        return None;
    }
    let Expr::Tuple(target) = &*for_stmt.target else {
        return None;
    };
    let [Expr::Name(key), Expr::Name(value)] = &*target.elts else {
        return None;
    };
    // Every item must be seen, and nothing in the loop may put back what it deleted.
    if jumps(&for_stmt.body)
        || NamespaceWrites::in_body(&for_stmt.body, namespace)
        || NamespaceWrites::in_body(&for_stmt.orelse, namespace)
    {
        return None;
    }
    let Some(Stmt::If(chain)) = for_stmt.body.first() else {
        return None;
    };
    let branches = std::iter::once((Some(&*chain.test), &chain.body)).chain(
        chain
            .elif_else_clauses
            .iter()
            .map(|clause| (clause.test.as_ref(), &clause.body)),
    );
    let mut classes = Vec::new();
    for (test, body) in branches {
        let Some(tested) = test.and_then(|t| isinstance_classes(t, value.id.as_str())) else {
            break;
        };
        if !body
            .first()
            .is_some_and(|s| deletes_item(s, namespace, key.id.as_str()))
        {
            break;
        }
        classes.extend(tested);
    }
    (!classes.is_empty()).then_some(classes)
}

/// `namespace.items()`, `tuple(namespace.items())` or `list(namespace.items())`.
fn iterates_items_of(iter: &Expr, namespace: &str) -> bool {
    let Expr::Call(call) = iter else {
        return false;
    };
    if let Expr::Name(wrapper) = &*call.func
        && matches!(wrapper.id.as_str(), "tuple" | "list")
        && let [inner] = &*call.arguments.args
        && call.arguments.keywords.is_empty()
    {
        return iterates_items_of(inner, namespace);
    }
    matches!(&*call.func, Expr::Attribute(a) if a.attr.as_str() == "items"
        && matches!(&*a.value, Expr::Name(n) if n.id.as_str() == namespace))
        && call.arguments.is_empty()
}

/// The classes of `isinstance(value, C)` or `isinstance(value, (C, D))`, as written.
fn isinstance_classes(test: &Expr, value: &str) -> Option<Vec<Name>> {
    let Expr::Call(call) = test else {
        return None;
    };
    if !matches!(&*call.func, Expr::Name(n) if n.id.as_str() == "isinstance")
        || !call.arguments.keywords.is_empty()
    {
        return None;
    }
    let [Expr::Name(tested), classes] = &*call.arguments.args else {
        return None;
    };
    if tested.id.as_str() != value {
        return None;
    }
    match classes {
        Expr::Tuple(tuple) => tuple.elts.iter().map(dotted_name).collect(),
        other => Some(vec![dotted_name(other)?]),
    }
}

/// `del namespace[key]`.
fn deletes_item(stmt: &Stmt, namespace: &str, key: &str) -> bool {
    let Stmt::Delete(delete) = stmt else {
        return false;
    };
    matches!(&*delete.targets, [Expr::Subscript(s)]
        if matches!(&*s.value, Expr::Name(n) if n.id.as_str() == namespace)
            && matches!(&*s.slice, Expr::Name(n) if n.id.as_str() == key))
}

/// Whether code (not counting the functions, classes and lambdas it defines) yields, or binds or
/// deletes the name `watched`.
struct Scan<'n> {
    watched: Option<&'n str>,
    yields: bool,
    rebinds: bool,
    depth: u32,
}

impl<'n> Scan<'n> {
    fn of_body(body: &[Stmt], watched: Option<&'n str>) -> Self {
        let mut scan = Scan {
            watched,
            yields: false,
            rebinds: false,
            depth: 0,
        };
        scan.visit_body(body);
        scan
    }

    fn of_stmt(stmt: &Stmt, watched: Option<&'n str>) -> Self {
        Scan::of_body(std::slice::from_ref(stmt), watched)
    }
}

impl<'a> Visitor<'a> for Scan<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {
                // The name the definition binds is still bound here.
                let name = match stmt {
                    Stmt::FunctionDef(f) => f.name.as_str(),
                    Stmt::ClassDef(c) => c.name.as_str(),
                    _ => unreachable!("matched above"),
                };
                self.rebinds |= self.watched == Some(name);
            }
            _ => {
                self.deeper(|walker| visitor::walk_stmt(walker, stmt));
            }
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Yield(_) | Expr::YieldFrom(_) => self.yields = true,
            Expr::Lambda(_) => return,
            Expr::Name(name)
                if !matches!(name.ctx, ast::ExprContext::Load)
                    && self.watched == Some(name.id.as_str()) =>
            {
                self.rebinds = true;
            }
            _ => {}
        }
        self.deeper(|walker| visitor::walk_expr(walker, expr));
    }
}
