//! `setattr` calls in a loop over the locals of a method that takes only its receiver, under a
//! test that skips the receiver's own name: the loop's only item is the receiver, so they never
//! run (litellm's provider configs with no parameter).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt};
use ruff_text_size::Ranged;

use super::{MAX_WALK_DEPTH, literal_text};

/// Where the `setattr` calls start that no run of `function` reaches because of the shape:
///
/// ```python
/// def __init__(self):
///     locals_ = locals().copy()          # or the loop over `locals().items()` itself
///     for key, value in locals_.items():
///         if key != "self" and ...:
///             setattr(...)
/// ```
///
/// The snapshot is taken by the body's first statement (after a docstring), so it holds the
/// parameters alone: only the receiver, since the function has no other parameter. It holds no
/// free variable either: the function is not nested in another function (`at_module_level`) and
/// its body names neither `super` nor `__class__` (either gives the method a `__class__` cell,
/// which `locals()` lists). Empty for any other function.
pub(super) fn unreached_setattrs(
    function: &ast::StmtFunctionDef,
    self_name: &str,
    at_module_level: bool,
) -> Vec<u32> {
    let parameters = &function.parameters;
    let only_receiver = parameters.posonlyargs.len() + parameters.args.len() == 1
        && parameters.vararg.is_none()
        && parameters.kwonlyargs.is_empty()
        && parameters.kwarg.is_none()
        && parameters
            .iter_non_variadic_params()
            .next()
            .is_some_and(|p| p.parameter.name.as_str() == self_name);
    if !at_module_level || !only_receiver {
        return Vec::new();
    }
    let mut body = &function.body[..];
    if let [Stmt::Expr(doc), rest @ ..] = body
        && matches!(&*doc.value, Expr::StringLiteral(_))
    {
        body = rest;
    }
    let for_stmt = match body {
        [Stmt::For(for_stmt), ..] if items_of(&for_stmt.iter).is_some_and(is_locals_snapshot) => {
            for_stmt
        }
        [Stmt::Assign(assign), Stmt::For(for_stmt), ..]
            if is_locals_snapshot(&assign.value)
                && matches!(&assign.targets[..], [Expr::Name(snapshot)]
                    if items_of(&for_stmt.iter).is_some_and(|of| matches!(of,
                        Expr::Name(n) if n.id == snapshot.id))) =>
        {
            for_stmt
        }
        _ => return Vec::new(),
    };
    let Expr::Tuple(target) = &*for_stmt.target else {
        return Vec::new();
    };
    let [Expr::Name(key), _] = &target.elts[..] else {
        return Vec::new();
    };
    // The first statement of the loop's body: nothing has rebound the key before its test.
    let Some(Stmt::If(skip)) = for_stmt.body.first() else {
        return Vec::new();
    };
    if !requires_other_name(&skip.test, key.id.as_str(), self_name) || mentions_class_cell(function)
    {
        return Vec::new();
    }
    let mut setattrs = Setattrs(Vec::new(), 0);
    for stmt in &skip.body {
        setattrs.visit_stmt(stmt);
    }
    setattrs.0
}

/// `X` of `X.items()`.
fn items_of(iter: &Expr) -> Option<&Expr> {
    let Expr::Call(call) = iter else { return None };
    match &*call.func {
        Expr::Attribute(method) if method.attr.as_str() == "items" && call.arguments.is_empty() => {
            Some(&method.value)
        }
        _ => None,
    }
}

/// `locals()`, `locals().copy()` or `dict(locals())`.
fn is_locals_snapshot(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let is_name = |expr: &Expr, name: &str| matches!(expr, Expr::Name(n) if n.id.as_str() == name);
    if is_name(&call.func, "locals") {
        return call.arguments.is_empty();
    }
    match &*call.func {
        Expr::Attribute(method) if method.attr.as_str() == "copy" => {
            call.arguments.is_empty() && is_locals_snapshot(&method.value)
        }
        func if is_name(func, "dict") => {
            call.arguments.keywords.is_empty()
                && matches!(&call.arguments.args[..], [inner] if is_locals_snapshot(inner)
                    && matches!(inner, Expr::Call(c) if is_name(&c.func, "locals")))
        }
        _ => false,
    }
}

/// Whether `test` is true only when `key` is not `receiver`: `key != "self"` (either way round),
/// alone or as one operand of an `and`.
fn requires_other_name(test: &Expr, key: &str, receiver: &str) -> bool {
    match test {
        Expr::BoolOp(both) if both.op == ast::BoolOp::And => both
            .values
            .iter()
            .any(|value| requires_other_name(value, key, receiver)),
        Expr::Compare(compare) => {
            let ([CmpOp::NotEq], [right]) = (&compare.ops[..], &compare.comparators[..]) else {
                return false;
            };
            let is_key = |expr: &Expr| matches!(expr, Expr::Name(n) if n.id.as_str() == key);
            let is_receiver = |expr: &Expr| matches!(expr, Expr::StringLiteral(s) if literal_text(&s.value) == receiver);
            (is_key(&compare.left) && is_receiver(right))
                || (is_receiver(&compare.left) && is_key(right))
        }
        _ => false,
    }
}

/// Whether the body names `super` or `__class__` anywhere (nested scopes included).
fn mentions_class_cell(function: &ast::StmtFunctionDef) -> bool {
    /// Too deep a body counts as naming them.
    struct Mentions(bool, u32);
    impl<'a> Visitor<'a> for Mentions {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if self.0 || self.1 > MAX_WALK_DEPTH {
                self.0 = true;
                return;
            }
            self.1 += 1;
            visitor::walk_stmt(self, stmt);
            self.1 -= 1;
        }

        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.0 || self.1 > MAX_WALK_DEPTH {
                self.0 = true;
                return;
            }
            if let Expr::Name(name) = expr
                && matches!(name.id.as_str(), "super" | "__class__")
            {
                self.0 = true;
                return;
            }
            self.1 += 1;
            visitor::walk_expr(self, expr);
            self.1 -= 1;
        }
    }
    let mut mentions = Mentions(false, 0);
    for stmt in &function.body {
        mentions.visit_stmt(stmt);
    }
    mentions.0
}

/// The starts of the `setattr(...)` calls in what it visits (none deeper than the walk's limit:
/// those are kept).
struct Setattrs(Vec<u32>, u32);

impl<'a> Visitor<'a> for Setattrs {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.1 > MAX_WALK_DEPTH {
            return;
        }
        self.1 += 1;
        visitor::walk_stmt(self, stmt);
        self.1 -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.1 > MAX_WALK_DEPTH {
            return;
        }
        if let Expr::Call(call) = expr
            && matches!(&*call.func, Expr::Name(f) if f.id.as_str() == "setattr")
        {
            self.0.push(call.range().start().to_u32());
        }
        self.1 += 1;
        visitor::walk_expr(self, expr);
        self.1 -= 1;
    }
}
