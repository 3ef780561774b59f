//! Attribute changes undone before the function returns: the value is saved in a local, the
//! attribute set, and the saved value put back in a `finally` (`old = C.f; C.f = v; try: ...
//! finally: C.f = old`). Once the function has returned nothing of the call is left there; only
//! code running at the same time in another thread can see
//! the value.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::Name;
use crate::syntax::literal_text;

use super::dotted_name;

/// The statements of a `try` that may run before its `finally`: the body, every handler's and
/// the `else`.
fn before_finally(try_stmt: &ast::StmtTry) -> impl Iterator<Item = &Stmt> {
    let handlers = try_stmt.handlers.iter().flat_map(|handler| {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        &h.body
    });
    try_stmt.body.iter().chain(handlers).chain(&try_stmt.orelse)
}

/// The restores at the head of `try_stmt`'s `finally` whose saved value `before` (the statements
/// before the `try` in its block) took, and the sets they undo.
///
/// What is appended to `out`: the starts of the assignment targets of the function body
/// `function` (nested functions left out) that set an attribute after its value was saved, and of
/// the assignments in a `finally` that put the saved value back; only when every change of that
/// attribute in the function (a store of any kind, `del`, a `setattr` that may name it) is one of
/// them. Asked of each `try` statement of the body (the walk over the body's blocks is shared:
/// `super::scan_function_blocks`).
pub(super) fn restored_stores(
    before: &[Stmt],
    try_stmt: &ast::StmtTry,
    function: &[Stmt],
    out: &mut Vec<u32>,
) {
    // A `yield` in the `try` hands the changed value to the consumer's code for as long as it
    // keeps the generator suspended; an `await` hands it to every coroutine the event loop runs
    // meanwhile, which in an async server are the other requests.
    if before_finally(try_stmt).any(suspends) {
        return;
    }
    // Only the restores before anything else in the `finally`: a statement ahead of one could
    // raise and skip it.
    for stmt in &try_stmt.finalbody {
        let Some((restored, target, saved)) = restore(stmt) else {
            break;
        };
        // The one set just before the `try`, possibly under an `if`: nothing between it and the
        // `try` could raise and skip the `finally` (after two sets, the second's value could);
        // the value must have been saved before it.
        let run = usize::from(before.last().is_some_and(|s| sets_only(s, &target)));
        let head = &before[..before.len() - run];
        let saved_here = head.iter().any(|s| saves(s, &saved, &target));
        if !saved_here || bindings_of(function, &saved) != 1 {
            continue;
        }
        let mut covered = vec![restored.range().start().to_u32()];
        for set in &before[head.len()..] {
            sets_in(std::slice::from_ref(set), &target, &mut covered);
        }
        sets_in(&try_stmt.body, &target, &mut covered);
        for handler in &try_stmt.handlers {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            sets_in(&h.body, &target, &mut covered);
        }
        sets_in(&try_stmt.orelse, &target, &mut covered);
        // Every change of the attribute in the function must be one the `finally` undoes: one
        // elsewhere (between the save and the sets, or after the `try`) outlives the call.
        let mut all = Vec::new();
        sets_in(function, &target, &mut all);
        if all.iter().all(|start| covered.contains(start)) {
            out.extend(covered);
        }
    }
}

/// A context variable set for the `try` that follows and reset in its `finally`: `token =
/// V.set(v)` as the last statement of `before` (the statements before the `try` in its block),
/// and `V.reset(token)` the first statement of the `finally`, `token` bound once in the function.
/// Appends the start of the `set` call to `out`: once the function has returned (or raised),
/// `V` holds again what it held before, in the context the call ran in, so `v` is in no context
/// the call leaves behind. Not when the `try` (its body, handlers or `else`) suspends (a `yield`
/// hands `v` to the consumer's code, an `await` to whatever the loop runs meanwhile) or calls
/// something that copies the current context for code that runs later or elsewhere
/// ([`COPIES_CONTEXT`]: a task, a thread, a callback of the loop).
pub(super) fn reset_context_sets(
    before: &[Stmt],
    try_stmt: &ast::StmtTry,
    function: &[Stmt],
    out: &mut Vec<u32>,
) {
    let Some(Stmt::Assign(assign)) = before.last() else {
        return;
    };
    let [Expr::Name(token)] = &assign.targets[..] else {
        return;
    };
    let Expr::Call(set) = &*assign.value else {
        return;
    };
    let Expr::Attribute(method) = &*set.func else {
        return;
    };
    if method.attr.as_str() != "set"
        || set.arguments.args.len() != 1
        || !set.arguments.keywords.is_empty()
    {
        return;
    }
    let Some(var) = dotted_name(&method.value) else {
        return;
    };
    let Some(Stmt::Expr(first)) = try_stmt.finalbody.first() else {
        return;
    };
    let Expr::Call(reset) = &*first.value else {
        return;
    };
    let resets = matches!(&*reset.func, Expr::Attribute(m)
        if m.attr.as_str() == "reset" && dotted_name(&m.value).as_ref() == Some(&var))
        && reset.arguments.keywords.is_empty()
        && matches!(&reset.arguments.args[..], [Expr::Name(n)] if n.id.as_str() == token.id.as_str());
    if !resets {
        return;
    }
    if before_finally(try_stmt).any(|stmt| suspends(stmt) || copies_context(stmt)) {
        return;
    }
    if bindings_of(function, &crate::facts::intern(token.id.as_str())) != 1 {
        return;
    }
    out.push(set.range().start().to_u32());
}

/// Calls (by the name's last part) that copy the current context for code that runs later or on
/// another thread: tasks, threads, executors and the loop's callbacks.
const COPIES_CONTEXT: &[&str] = &[
    "create_task",
    "ensure_future",
    "run_coroutine_threadsafe",
    "to_thread",
    "run_in_executor",
    "submit",
    "Thread",
    "Timer",
    "copy_context",
    "call_soon",
    "call_soon_threadsafe",
    "call_later",
    "call_at",
    "start_soon",
    "spawn",
    "TaskGroup",
];

/// Whether `stmt` (nested functions and lambdas left out) calls one of [`COPIES_CONTEXT`].
fn copies_context(stmt: &Stmt) -> bool {
    struct Copies(bool);
    impl<'b> Visitor<'b> for Copies {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            if !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                visitor::walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'b Expr) {
            match expr {
                Expr::Call(call) => {
                    let name = match &*call.func {
                        Expr::Name(n) => Some(n.id.as_str()),
                        Expr::Attribute(a) => Some(a.attr.as_str()),
                        _ => None,
                    };
                    if name.is_some_and(|n| COPIES_CONTEXT.contains(&n)) {
                        self.0 = true;
                    }
                    visitor::walk_expr(self, expr);
                }
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut copies = Copies(false);
    copies.visit_stmt(stmt);
    copies.0
}

/// `T = name` with `T` an attribute of a name: the target expression, `T` dotted, and `name`.
fn restore(stmt: &Stmt) -> Option<(&Expr, Name, Name)> {
    let Stmt::Assign(assign) = stmt else {
        return None;
    };
    let [target @ Expr::Attribute(_)] = &assign.targets[..] else {
        return None;
    };
    let Expr::Name(saved) = &*assign.value else {
        return None;
    };
    Some((
        target,
        dotted_name(target)?,
        crate::facts::intern(saved.id.as_str()),
    ))
}

/// `saved = T`.
fn saves(stmt: &Stmt, saved: &Name, target: &Name) -> bool {
    let Stmt::Assign(assign) = stmt else {
        return false;
    };
    matches!(&assign.targets[..], [Expr::Name(name)] if name.id.as_str() == saved.as_str())
        && dotted_name(&assign.value).as_ref() == Some(target)
}

/// `T = v`, or an `if` (without `else`) whose body is only that.
fn sets_only(stmt: &Stmt, target: &Name) -> bool {
    match stmt {
        Stmt::Assign(assign) => matches!(
            &assign.targets[..],
            [t @ Expr::Attribute(_)] if dotted_name(t).as_ref() == Some(target)
        ),
        Stmt::If(s) => {
            s.elif_else_clauses.is_empty() && matches!(&s.body[..], [b] if sets_only(b, target))
        }
        _ => false,
    }
}

/// The starts of the changes of `target` in `body`, nested functions left out: every store
/// into it or deletion of it, whatever the statement (`=`, `+=`, a tuple, `for`, `with ... as`,
/// `del`), and each `setattr` that may name it.
fn sets_in(body: &[Stmt], target: &Name, out: &mut Vec<u32>) {
    struct Sets<'a> {
        target: &'a Name,
        out: &'a mut Vec<u32>,
    }
    impl<'b> Visitor<'b> for Sets<'_> {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            if !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                visitor::walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'b Expr) {
            match expr {
                Expr::Attribute(attribute)
                    if !attribute.ctx.is_load()
                        && dotted_name(expr).as_ref() == Some(self.target) =>
                {
                    self.out.push(expr.range().start().to_u32());
                }
                Expr::Call(call) if self.may_set(call) => {
                    self.out.push(expr.range().start().to_u32());
                }
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    impl Sets<'_> {
        /// `setattr(O, name, v)` where `O.name` may be the target: the object is the target's
        /// own object and the name is not a different constant.
        fn may_set(&self, call: &ast::ExprCall) -> bool {
            let Expr::Name(function) = &*call.func else {
                return false;
            };
            let [object, name, ..] = &call.arguments.args[..] else {
                return false;
            };
            let Some((owner, attr)) = self.target.as_str().rsplit_once('.') else {
                return false;
            };
            function.id.as_str() == "setattr"
                && dotted_name(object).is_some_and(|o| o.as_str() == owner)
                && match name {
                    Expr::StringLiteral(literal) => literal_text(&literal.value) == attr,
                    _ => true,
                }
        }
    }
    let mut sets = Sets { target, out };
    sets.visit_body(body);
}

/// How many times the function binds `name` (nested functions left out): a saved value must be
/// bound once, so that the `finally` puts back the value read before the change.
fn bindings_of(function: &[Stmt], name: &Name) -> usize {
    struct Bindings<'a> {
        name: &'a str,
        count: usize,
    }
    impl<'b> Visitor<'b> for Bindings<'_> {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            match stmt {
                // A nested function does not bind the name unless it declares it `nonlocal`.
                Stmt::FunctionDef(f) => {
                    self.count += usize::from(f.name.as_str() == self.name);
                    self.count += 2 * usize::from(declares_nonlocal(&f.body, self.name));
                }
                Stmt::ClassDef(c) => self.count += usize::from(c.name.as_str() == self.name),
                // `global` or `nonlocal` make it something else than one local.
                Stmt::Global(ast::StmtGlobal { names, .. })
                | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                    self.count += 2 * names.iter().filter(|n| n.as_str() == self.name).count();
                }
                Stmt::Import(ast::StmtImport { names, .. })
                | Stmt::ImportFrom(ast::StmtImportFrom { names, .. }) => {
                    self.count += names
                        .iter()
                        .filter(|alias| {
                            let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                            bound.split('.').next() == Some(self.name)
                        })
                        .count();
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'b Expr) {
            match expr {
                Expr::Name(name) if !name.ctx.is_load() && name.id.as_str() == self.name => {
                    self.count += 1;
                }
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
        fn visit_pattern(&mut self, pattern: &'b ast::Pattern) {
            let bound = match pattern {
                ast::Pattern::MatchAs(p) => p.name.as_ref(),
                ast::Pattern::MatchStar(p) => p.name.as_ref(),
                ast::Pattern::MatchMapping(p) => p.rest.as_ref(),
                _ => None,
            };
            if bound.is_some_and(|n| n.as_str() == self.name) {
                self.count += 1;
            }
            visitor::walk_pattern(self, pattern);
        }
        fn visit_except_handler(&mut self, handler: &'b ast::ExceptHandler) {
            let ast::ExceptHandler::ExceptHandler(h) = handler;
            if h.name.as_ref().is_some_and(|n| n.as_str() == self.name) {
                self.count += 1;
            }
            visitor::walk_except_handler(self, handler);
        }
    }
    let mut bindings = Bindings {
        name: name.as_str(),
        count: 0,
    };
    bindings.visit_body(function);
    bindings.count
}

/// Whether `stmt` may suspend the function and let other code run before it goes on: a `yield`,
/// an `await`, `async for` or `async with` (nested functions, classes and lambdas left out).
fn suspends(stmt: &Stmt) -> bool {
    struct Suspends(bool);
    impl<'b> Visitor<'b> for Suspends {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::For(ast::StmtFor { is_async: true, .. })
                | Stmt::With(ast::StmtWith { is_async: true, .. }) => self.0 = true,
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'b Expr) {
            match expr {
                Expr::Yield(_) | Expr::YieldFrom(_) | Expr::Await(_) => self.0 = true,
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut suspends = Suspends(false);
    suspends.visit_stmt(stmt);
    suspends.0
}

/// Whether a function nested in the one the name belongs to, at any depth, declares it
/// `nonlocal` and so may rebind it.
fn declares_nonlocal(body: &[Stmt], name: &str) -> bool {
    struct Declares<'a> {
        name: &'a str,
        found: bool,
    }
    impl<'b> Visitor<'b> for Declares<'_> {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            match stmt {
                Stmt::Nonlocal(ast::StmtNonlocal { names, .. })
                    if names.iter().any(|n| n.as_str() == self.name) =>
                {
                    self.found = true;
                }
                Stmt::ClassDef(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
    }
    let mut declares = Declares { name, found: false };
    declares.visit_body(body);
    declares.found
}
