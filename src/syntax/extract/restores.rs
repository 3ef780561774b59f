//! Attribute changes undone before the function returns: the value is saved in a local, the
//! attribute set, and the saved value put back in a `finally` (`old = C.f; C.f = v; try: ...
//! finally: C.f = old`). Once the function has returned nothing of the call is left there; only
//! code running at the same time (another thread, or a coroutine while this one awaits) can see
//! the value.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::Name;

use super::dotted_name;

/// Appends to `out` the starts of the assignment targets in `body` (a function's body, nested
/// functions left out) that set an attribute after its value was saved, and of the assignments in
/// a `finally` that put the saved value back; only when every assignment to that attribute in the
/// function is one of them.
pub(super) fn restored_stores(body: &[Stmt], out: &mut Vec<u32>) {
    scan_block(body, body, out);
}

fn scan_block(block: &[Stmt], function: &[Stmt], out: &mut Vec<u32>) {
    for (index, stmt) in block.iter().enumerate() {
        if let Stmt::Try(try_stmt) = stmt {
            restores_of(&block[..index], try_stmt, function, out);
        }
        for inner in nested_blocks(stmt) {
            scan_block(inner, function, out);
        }
    }
}

/// The blocks of statements directly inside `stmt` that run in the same function.
fn nested_blocks(stmt: &Stmt) -> Vec<&[Stmt]> {
    match stmt {
        Stmt::If(s) => std::iter::once(&s.body[..])
            .chain(s.elif_else_clauses.iter().map(|c| &c.body[..]))
            .collect(),
        Stmt::For(s) => vec![&s.body, &s.orelse],
        Stmt::While(s) => vec![&s.body, &s.orelse],
        Stmt::With(s) => vec![&s.body],
        Stmt::Try(s) => std::iter::once(&s.body[..])
            .chain(s.handlers.iter().map(|handler| {
                let ast::ExceptHandler::ExceptHandler(h) = handler;
                &h.body[..]
            }))
            .chain([&s.orelse[..], &s.finalbody[..]])
            .collect(),
        Stmt::Match(s) => s.cases.iter().map(|c| &c.body[..]).collect(),
        _ => Vec::new(),
    }
}

/// The restores at the head of `try_stmt`'s `finally` whose saved value `before` (the statements
/// before the `try` in its block) took, and the sets they undo.
fn restores_of(before: &[Stmt], try_stmt: &ast::StmtTry, function: &[Stmt], out: &mut Vec<u32>) {
    // A `yield` in the `try` hands the changed value to the consumer's code for as long as it
    // keeps the generator suspended.
    if try_stmt.body.iter().any(has_yield) {
        return;
    }
    // Only the restores before anything else in the `finally`: a statement ahead of one could
    // raise and skip it.
    for stmt in &try_stmt.finalbody {
        let Some((target, saved)) = restore(stmt) else {
            break;
        };
        // The sets just before the `try` (nothing between them and it could raise and skip the
        // `finally`), possibly under an `if`; the value must have been saved before them.
        let run = before
            .iter()
            .rev()
            .take_while(|s| sets_only(s, &target))
            .count();
        let head = &before[..before.len() - run];
        let saved_here = head.iter().any(|s| saves(s, &saved, &target));
        if !saved_here || bindings_of(function, &saved) != 1 {
            continue;
        }
        let mut covered = vec![assignment_target(stmt).range().start().to_u32()];
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

/// `T = name` with `T` an attribute of a name: the target `T`, dotted, and `name`.
fn restore(stmt: &Stmt) -> Option<(Name, Name)> {
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
        dotted_name(target)?,
        crate::facts::intern(saved.id.as_str()),
    ))
}

fn assignment_target(stmt: &Stmt) -> &Expr {
    match stmt {
        Stmt::Assign(assign) => &assign.targets[0],
        _ => unreachable!("only restores are asked for their target"),
    }
}

/// `saved = T`.
fn saves(stmt: &Stmt, saved: &Name, target: &Name) -> bool {
    let Stmt::Assign(assign) = stmt else {
        return false;
    };
    matches!(&assign.targets[..], [Expr::Name(name)] if name.id.as_str() == saved.as_str())
        && dotted_name(&assign.value).as_ref() == Some(target)
}

/// `T = v`, or an `if` (without `else`) whose body only does that.
fn sets_only(stmt: &Stmt, target: &Name) -> bool {
    match stmt {
        Stmt::Assign(assign) => matches!(
            &assign.targets[..],
            [t @ Expr::Attribute(_)] if dotted_name(t).as_ref() == Some(target)
        ),
        Stmt::If(s) => {
            s.elif_else_clauses.is_empty() && s.body.iter().all(|b| sets_only(b, target))
        }
        _ => false,
    }
}

/// The starts of the assignments to `target` in `body`, nested functions left out.
fn sets_in(body: &[Stmt], target: &Name, out: &mut Vec<u32>) {
    struct Sets<'a> {
        target: &'a Name,
        out: &'a mut Vec<u32>,
    }
    impl<'b> Visitor<'b> for Sets<'_> {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Assign(assign) => {
                    for t in &assign.targets {
                        if matches!(t, Expr::Attribute(_))
                            && dotted_name(t).as_ref() == Some(self.target)
                        {
                            self.out.push(t.range().start().to_u32());
                        }
                    }
                }
                _ => visitor::walk_stmt(self, stmt),
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
                Stmt::FunctionDef(f) => self.count += usize::from(f.name.as_str() == self.name),
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

/// Whether `stmt` yields (nested functions, classes and lambdas left out).
fn has_yield(stmt: &Stmt) -> bool {
    struct Yields(bool);
    impl<'b> Visitor<'b> for Yields {
        fn visit_stmt(&mut self, stmt: &'b Stmt) {
            if !matches!(stmt, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                visitor::walk_stmt(self, stmt);
            }
        }
        fn visit_expr(&mut self, expr: &'b Expr) {
            match expr {
                Expr::Yield(_) | Expr::YieldFrom(_) => self.0 = true,
                Expr::Lambda(_) => {}
                _ => visitor::walk_expr(self, expr),
            }
        }
    }
    let mut yields = Yields(false);
    yields.visit_stmt(stmt);
    yields.0
}
