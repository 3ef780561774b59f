//! Changes that run only after a read of the same object by a constant index: `if
//! self.groups[-1] != group: self.groups.append(...)`. `x[-1]`, `x[0]` raise on an empty list
//! (and any key on an empty dict), so when the read is not caught, the change only ever runs on an
//! object that holds an entry already: it cannot be what first puts one into an empty container,
//! and a container created empty that only such changes touch stays empty.
//!
//! A read counts for the statements after it in its block and in the blocks below them, and for
//! the body of the compound statement whose header makes it (an `if` or `while` test, a `for`
//! iterable, a `with` item), until a statement of the function binds the name or the attribute
//! again. A read that may not run is not counted: the operands after the first of `and` and `or`,
//! the branches of `x if c else y`, the comparisons after the first of a chain, lambdas and
//! comprehensions past their first iterable, an `assert` (gone under `python -O`). A read in a
//! `try` body counts only inside that body (a handler may catch its `IndexError`), and one in a
//! `with` body only inside it (the context manager may swallow it). Binds made by other functions
//! between the read and the change (a called method setting the attribute again) are not seen.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::{AccessPath, FuncIdx, Mutation, Root};

use super::dotted_name;
use super::needs_entries::surely_evaluated;

/// How deep the walk follows nested blocks: below it, nothing is counted (so nothing is claimed).
const MAX_DEPTH: usize = 64;

/// The starts of the changes among `mutations` (those of the function `function`, whose body is
/// `body` and whose instance parameter is `self_name`) that run only after a read of their target
/// by a constant index, with no bind of the target in between.
pub(super) fn changed_only_when_not_empty(
    body: &[Stmt],
    mutations: &[Mutation],
    function: FuncIdx,
    self_name: Option<&str>,
) -> Vec<u32> {
    let mut walk = Walk {
        mutations,
        function,
        self_name,
        found: Vec::new(),
    };
    walk.block(body, Vec::new(), 0);
    walk.found
}

struct Walk<'a> {
    mutations: &'a [Mutation],
    function: FuncIdx,
    self_name: Option<&'a str>,
    found: Vec<u32>,
}

impl Walk<'_> {
    /// Walks `block` with `known` the names (`self.groups`, `items`) read by a constant index on
    /// every path to its first statement; returns those still known after its last one.
    fn block(&mut self, block: &[Stmt], mut known: Vec<String>, depth: usize) -> Vec<String> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        for stmt in block {
            known = self.stmt(stmt, known, depth);
        }
        known
    }

    fn stmt(&mut self, stmt: &Stmt, known: Vec<String>, depth: usize) -> Vec<String> {
        // What the statement binds again (anywhere in it, the blocks below included) is not
        // known after it, nor in a loop body that runs again after it.
        let without_rebound = |mut names: Vec<String>| {
            names.retain(|name| !binds(stmt, name));
            names
        };
        match stmt {
            Stmt::If(s) => {
                let mut header = known.clone();
                failing_reads(&s.test, &mut header);
                self.block(&s.body, header.clone(), depth + 1);
                for clause in &s.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        failing_reads(test, &mut header);
                    }
                    self.block(&clause.body, header.clone(), depth + 1);
                }
                let mut after = known;
                failing_reads(&s.test, &mut after);
                without_rebound(after)
            }
            Stmt::While(s) => {
                // The test runs again before each pass; what was known before the loop holds
                // in the body only when the loop binds none of it.
                let mut header = without_rebound(known);
                let after = header.clone();
                failing_reads(&s.test, &mut header);
                self.block(&s.body, header.clone(), depth + 1);
                self.block(&s.orelse, header, depth + 1);
                after
            }
            Stmt::For(s) => {
                let mut header = known;
                failing_reads(&s.iter, &mut header);
                let header = without_rebound(header);
                self.block(&s.body, header.clone(), depth + 1);
                self.block(&s.orelse, header.clone(), depth + 1);
                header
            }
            Stmt::With(s) => {
                let mut header = known;
                for item in &s.items {
                    failing_reads(&item.context_expr, &mut header);
                }
                self.block(&s.body, header.clone(), depth + 1);
                without_rebound(header)
            }
            Stmt::Try(s) => {
                let outer = without_rebound(known.clone());
                self.block(&s.body, known, depth + 1);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    self.block(&h.body, outer.clone(), depth + 1);
                }
                self.block(&s.orelse, outer.clone(), depth + 1);
                self.block(&s.finalbody, outer.clone(), depth + 1);
                outer
            }
            Stmt::Match(s) => {
                let mut header = known;
                failing_reads(&s.subject, &mut header);
                let header = without_rebound(header);
                for case in &s.cases {
                    self.block(&case.body, header.clone(), depth + 1);
                }
                header
            }
            // Their own walks: a nested function runs when called, not here.
            Stmt::FunctionDef(_) | Stmt::ClassDef(_) => without_rebound(known),
            _ => {
                if !known.is_empty() {
                    self.record_changes_in(stmt, &known);
                }
                let mut after = known;
                match stmt {
                    Stmt::Expr(s) => failing_reads(&s.value, &mut after),
                    Stmt::Assign(s) => failing_reads(&s.value, &mut after),
                    Stmt::AnnAssign(s) => {
                        if let Some(value) = &s.value {
                            failing_reads(value, &mut after);
                        }
                    }
                    Stmt::AugAssign(s) => failing_reads(&s.value, &mut after),
                    _ => {}
                }
                without_rebound(after)
            }
        }
    }

    /// Records the changes made by `stmt` (a simple statement) of a name in `known`.
    fn record_changes_in(&mut self, stmt: &Stmt, known: &[String]) {
        let range = stmt.range();
        let (start, end) = (range.start().to_u32(), range.end().to_u32());
        for mutation in self.mutations {
            if mutation.function == self.function
                && mutation.alias.is_none()
                && (start..end).contains(&mutation.span.start)
                && known
                    .iter()
                    .any(|name| names(&mutation.target, name, self.self_name))
            {
                self.found.push(mutation.span.start);
            }
        }
    }
}

/// Whether `path` (a change's target) is the dotted `name` as written in a function whose
/// instance parameter is `self_name`.
fn names(path: &AccessPath, name: &str, self_name: Option<&str>) -> bool {
    let mut parts = name.split('.');
    let Some(root) = parts.next() else {
        return false;
    };
    let root_matches = match &path.root {
        Root::SelfParam => self_name == Some(root),
        Root::Local(local) => local.as_str() == root,
        // A global or the class may be bound again by any function in between.
        Root::Global(_) | Root::Class => false,
    };
    root_matches && parts.eq(path.attrs.iter().map(|attr| attr.as_str()))
}

/// Adds to `out` the names (`self.groups`) that `expr` surely reads by a constant index
/// (`self.groups[-1]`, `items[0]`) when it is evaluated ([`surely_evaluated`]).
fn failing_reads(expr: &Expr, out: &mut Vec<String>) {
    surely_evaluated(expr, &mut |part| {
        if let Expr::Subscript(s) = part
            && s.ctx == ast::ExprContext::Load
            && is_constant_index(&s.slice)
            && let Some(name) = dotted_name(&s.value)
        {
            let name = name.to_string();
            if !out.contains(&name) {
                out.push(name);
            }
        }
    });
}

/// `0`, `-1`: an integer literal, negated or not.
pub(super) fn is_constant_index(slice: &Expr) -> bool {
    let slice = match slice {
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => &*u.operand,
        other => other,
    };
    matches!(slice, Expr::NumberLiteral(n) if matches!(n.value, ast::Number::Int(_)))
}

/// Whether `stmt` binds `name` (`self.groups`) or the name it starts with (`self`) anywhere in
/// it: an assignment, an augmented assignment, a loop or `with` target, a walrus, `del`, an
/// import or an exception's name. A nested function or class binds only its own name here.
fn binds(stmt: &Stmt, name: &str) -> bool {
    let mut found = false;
    visit_bound(stmt, &mut |bound: &str| {
        if bound == name
            || name
                .strip_prefix(bound)
                .is_some_and(|rest| rest.starts_with('.'))
        {
            found = true;
        }
    });
    found
}

/// Hands `bound` each name or dotted attribute `stmt` binds, its blocks included.
pub(super) fn visit_bound(stmt: &Stmt, bound: &mut dyn FnMut(&str)) {
    use ruff_python_ast::visitor::{self, Visitor};

    struct Binds<'b> {
        bound: &'b mut dyn FnMut(&str),
    }

    impl Binds<'_> {
        fn target(&mut self, target: &Expr) {
            match target {
                Expr::Tuple(t) => t.elts.iter().for_each(|e| self.target(e)),
                Expr::List(l) => l.elts.iter().for_each(|e| self.target(e)),
                Expr::Starred(s) => self.target(&s.value),
                other => {
                    if let Some(name) = dotted_name(other) {
                        (self.bound)(name.as_str());
                    }
                }
            }
        }
    }

    impl<'a> Visitor<'a> for Binds<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Assign(s) => s.targets.iter().for_each(|t| self.target(t)),
                Stmt::AnnAssign(s) => self.target(&s.target),
                Stmt::AugAssign(s) => self.target(&s.target),
                Stmt::For(s) => self.target(&s.target),
                Stmt::Delete(s) => s.targets.iter().for_each(|t| self.target(t)),
                Stmt::With(s) => {
                    for item in &s.items {
                        if let Some(vars) = &item.optional_vars {
                            self.target(vars);
                        }
                    }
                }
                Stmt::Import(s) => {
                    for alias in &s.names {
                        let name = alias.asname.as_ref().unwrap_or(&alias.name);
                        let head = name.as_str().split('.').next().unwrap_or_default();
                        (self.bound)(head);
                    }
                }
                Stmt::ImportFrom(s) => {
                    for alias in &s.names {
                        (self.bound)(alias.asname.as_ref().unwrap_or(&alias.name).as_str());
                    }
                }
                Stmt::FunctionDef(s) => {
                    (self.bound)(s.name.as_str());
                    return;
                }
                Stmt::ClassDef(s) => {
                    (self.bound)(s.name.as_str());
                    return;
                }
                Stmt::Try(s) => {
                    for handler in &s.handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = handler;
                        if let Some(name) = &h.name {
                            (self.bound)(name.as_str());
                        }
                    }
                }
                Stmt::Global(s) => s.names.iter().for_each(|n| (self.bound)(n.as_str())),
                Stmt::Nonlocal(s) => s.names.iter().for_each(|n| (self.bound)(n.as_str())),
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }

        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Named(n) => self.target(&n.target),
                // Their bodies run elsewhere, or bind only their own names.
                Expr::Lambda(_) => return,
                _ => {}
            }
            visitor::walk_expr(self, expr);
        }
    }

    Binds { bound }.visit_stmt(stmt);
}
