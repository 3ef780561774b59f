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
    if function.is_async || Scan::of_body(&function.body, None).yields {
        return;
    }
    let params: Vec<&str> = function
        .parameters
        .posonlyargs
        .iter()
        .chain(&function.parameters.args)
        .map(|p| p.parameter.name.as_str())
        .collect();
    match kind {
        FunctionKind::Module => {
            for (index, param) in params.iter().enumerate() {
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
    let mut supered = false;
    for stmt in &function.body {
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
/// return or that rebinds the parameter, or when nothing is done to the namespace.
fn rewrite_before_creation(body: &[Stmt], namespace: &str) -> Option<NamespaceRewrite> {
    let mut rewrite = NamespaceRewrite {
        function: 0,
        removed: Vec::new(),
        handed_to: Vec::new(),
    };
    for stmt in body {
        if creates_class_from(stmt, namespace) {
            return (!rewrite.removed.is_empty() || !rewrite.handed_to.is_empty())
                .then_some(rewrite);
        }
        if may_return(stmt) || Scan::of_stmt(stmt, Some(namespace)).rebinds {
            return None;
        }
        if let Some(classes) = removed_by_loop(stmt, namespace) {
            rewrite.removed.extend(classes);
        } else if let Some(call) = statement_call(stmt)
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
    for stmt in body {
        if let Some(classes) = removed_by_loop(stmt, param) {
            return Some(classes);
        }
        if may_return(stmt) || Scan::of_stmt(stmt, Some(param)).rebinds {
            return None;
        }
    }
    None
}

/// `for name, value in namespace.items():` (or over `tuple(...)`/`list(...)` of it) whose first
/// statement is an `if`/`elif` chain of `isinstance(value, C)` tests, each branch starting with
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
                self.depth += 1;
                // Code nested deeper than this is refused before it gets here; the cut keeps a
                // hand-made tree from exhausting the stack.
                if self.depth > MAX_WALK_DEPTH {
                    self.rebinds = true;
                    self.yields = true;
                } else {
                    visitor::walk_stmt(self, stmt);
                }
                self.depth -= 1;
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
        self.depth += 1;
        if self.depth > MAX_WALK_DEPTH {
            self.rebinds = true;
            self.yields = true;
        } else {
            visitor::walk_expr(self, expr);
        }
        self.depth -= 1;
    }
}
