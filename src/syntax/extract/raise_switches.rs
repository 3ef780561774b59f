//! Parameters that only choose between raising and returning `None`: `def lookup(domain,
//! exception): ... except ImportError: if exception: raise ... return None` (esphome's
//! `_lookup_module`). Such a parameter never changes what the function returns when it returns
//! something other than `None`, nor what it stores: a call with it true raises exactly where a
//! call with it false returns `None` having stored nothing, and everywhere else the two run
//! alike. So a memo whose value depends on it only through the function's own recursive call,
//! stored only when that call gave something other than `None`, stores the same value whatever
//! the parameter is (SL402).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};

use crate::facts::{FuncIdx, intern};

use super::Extractor;

impl Extractor {
    /// Records the raise-or-return-`None` switches of a module-level function without
    /// decorators (a decorator may stand between the name and the body a recursive call runs).
    pub(super) fn record_raise_switches(&mut self, idx: FuncIdx, function: &ast::StmtFunctionDef) {
        let facts = &self.facts.functions[idx as usize];
        if facts.kind != crate::facts::FunctionKind::Module || !function.decorator_list.is_empty() {
            return;
        }
        let parameters = &function.parameters;
        let mut tested = TestedNames::default();
        tested.visit_body(&function.body);
        if tested.names.is_empty() {
            return;
        }
        let positional = parameters.posonlyargs.len();
        for (index, parameter) in parameters
            .posonlyargs
            .iter()
            .chain(&parameters.args)
            .chain(&parameters.kwonlyargs)
            .enumerate()
        {
            let name = parameter.parameter.name.as_str();
            if !tested.names.contains(&name) {
                continue;
            }
            let passed = Passed {
                position: (index < positional + parameters.args.len()).then_some(index),
                keyword: index >= positional,
            };
            if only_switches(function, name, passed) {
                self.facts.raise_switches.push((idx, intern(name)));
            }
        }
    }
}

/// How a recursive call may hand a parameter on to itself: at its own position, or by its own
/// keyword.
#[derive(Clone, Copy)]
struct Passed {
    position: Option<usize>,
    keyword: bool,
}

/// The names `if` tests are (`if name:`, `if not name:`), outside nested scopes' expressions.
#[derive(Default)]
struct TestedNames<'a> {
    names: Vec<&'a str>,
}

impl<'a> Visitor<'a> for TestedNames<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::If(if_stmt) = stmt
            && let Some((name, _)) = tested_name(&if_stmt.test)
            && !self.names.contains(&name)
        {
            self.names.push(name);
        }
        visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, _: &'a Expr) {}
}

/// `name` (false) or `not name` (true, negated).
fn tested_name(test: &Expr) -> Option<(&str, bool)> {
    match test {
        Expr::Name(name) => Some((name.id.as_str(), false)),
        Expr::UnaryOp(unary) if unary.op == ast::UnaryOp::Not => match &*unary.operand {
            Expr::Name(name) => Some((name.id.as_str(), true)),
            _ => None,
        },
        _ => None,
    }
}

/// Whether every use of `param` in `function` is one of:
/// - the whole test of an `if` (`if param:`, `if not param:`, no `elif`, at most an `else`) where
///   the statements run when it is true begin with `raise`, and those run when it is false
///   (the branch, then what follows the `if` in its block) are calls, `pass` and `if`s of these
///   up to a `return` of `None`;
/// - the argument at its own position (or keyword) of a recursive call that is the whole of a
///   `return` or of the value assigned to a plain local `m`, where what follows in the block is,
///   up to a `return` of `m` or `None`, calls and `pass` not reading `m`, and `if m:` or
///   `if m is not None:` without `elif` or `else`;
///
/// none of these inside a `try` body, a `try` with a `finally` or a `with` body (where the
/// raise may be caught) nor in a nested function or class (whose `return` is not the
/// function's), and nothing binds `param`, yields, or reads the local namespace.
fn only_switches(function: &ast::StmtFunctionDef, param: &str, passed: Passed) -> bool {
    let mut walk = Walk {
        param,
        function: function.name.as_str(),
        passed,
        refused: false,
        rest: &[],
        ok: true,
    };
    walk.visit_body(&function.body);
    walk.ok
}

struct Walk<'a> {
    param: &'a str,
    function: &'a str,
    passed: Passed,
    /// The shapes above are not accepted here: inside a `try` body, any part of a `try` with a
    /// `finally`, a `with` body, or a nested function or class.
    refused: bool,
    /// The statements after the one being walked, in its block.
    rest: &'a [Stmt],
    ok: bool,
}

impl<'a> Walk<'a> {
    /// The recursive call `expr` is, when it hands `param` on at its own place, once, and
    /// unpacks nothing.
    fn recursive_call(&self, expr: &'a Expr) -> Option<&'a ast::ExprCall> {
        let Expr::Call(call) = expr else {
            return None;
        };
        if !matches!(&*call.func, Expr::Name(f) if f.id.as_str() == self.function) {
            return None;
        }
        let arguments = &call.arguments;
        if arguments.args.iter().any(Expr::is_starred_expr)
            || arguments.keywords.iter().any(|k| k.arg.is_none())
        {
            return None;
        }
        let by_position = self
            .passed
            .position
            .and_then(|i| arguments.args.get(i))
            .is_some_and(|arg| self.is_param(arg));
        let by_keyword = self.passed.keyword
            && arguments.keywords.iter().any(|k| {
                k.arg.as_ref().is_some_and(|a| a.as_str() == self.param) && self.is_param(&k.value)
            });
        (by_position != by_keyword).then_some(call)
    }

    fn is_param(&self, expr: &Expr) -> bool {
        matches!(expr, Expr::Name(n) if n.id.as_str() == self.param)
    }

    /// Walks a recursive call's arguments but the one that hands `param` on.
    fn visit_other_arguments(&mut self, call: &'a ast::ExprCall) {
        let position = self.passed.position;
        for (i, arg) in call.arguments.args.iter().enumerate() {
            if !(Some(i) == position && self.is_param(arg)) {
                self.visit_expr(arg);
            }
        }
        for keyword in &call.arguments.keywords {
            let handed_on = keyword
                .arg
                .as_ref()
                .is_some_and(|a| a.as_str() == self.param)
                && self.is_param(&keyword.value);
            if !handed_on {
                self.visit_expr(&keyword.value);
            }
        }
    }

    fn binds_param(&self, name: &str) -> bool {
        name == self.param
    }
}

impl<'a> Visitor<'a> for Walk<'a> {
    fn visit_body(&mut self, body: &'a [Stmt]) {
        for (i, stmt) in body.iter().enumerate() {
            if !self.ok {
                return;
            }
            self.rest = &body[i + 1..];
            self.visit_stmt(stmt);
        }
    }

    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if !self.ok {
            return;
        }
        let rest = self.rest;
        match stmt {
            Stmt::If(if_stmt)
                if tested_name(&if_stmt.test).is_some_and(|(n, _)| n == self.param) =>
            {
                let negated = tested_name(&if_stmt.test).is_some_and(|(_, negated)| negated);
                if self.refused || !switch_is_exact(if_stmt, negated, rest) {
                    self.ok = false;
                    return;
                }
                self.visit_body(&if_stmt.body);
                for clause in &if_stmt.elif_else_clauses {
                    self.visit_body(&clause.body);
                }
            }
            Stmt::Return(ret)
                if let Some(call) = ret.value.as_deref().and_then(|v| self.recursive_call(v)) =>
            {
                if self.refused {
                    self.ok = false;
                    return;
                }
                self.visit_other_arguments(call);
            }
            Stmt::Assign(assign) if let Some(call) = self.recursive_call(&assign.value) => {
                let [Expr::Name(target)] = assign.targets.as_slice() else {
                    self.ok = false;
                    return;
                };
                let result = target.id.as_str();
                if self.refused || self.binds_param(result) || !result_is_guarded(result, rest) {
                    self.ok = false;
                    return;
                }
                self.visit_other_arguments(call);
            }
            Stmt::Try(try_stmt) => {
                let outer = self.refused;
                self.refused = true;
                self.visit_body(&try_stmt.body);
                let finally = !try_stmt.finalbody.is_empty();
                self.refused = outer || finally;
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    if handler
                        .name
                        .as_ref()
                        .is_some_and(|n| self.binds_param(n.as_str()))
                    {
                        self.ok = false;
                        return;
                    }
                    if let Some(type_) = &handler.type_ {
                        self.visit_expr(type_);
                    }
                    self.visit_body(&handler.body);
                }
                self.visit_body(&try_stmt.orelse);
                self.visit_body(&try_stmt.finalbody);
                self.refused = outer;
            }
            Stmt::With(with) => {
                for item in &with.items {
                    self.visit_with_item(item);
                }
                let outer = self.refused;
                self.refused = true;
                self.visit_body(&with.body);
                self.refused = outer;
            }
            // Capture patterns bind names the walk does not see.
            Stmt::Match(_) => self.ok = false,
            Stmt::FunctionDef(ast::StmtFunctionDef { name, .. })
            | Stmt::ClassDef(ast::StmtClassDef { name, .. }) => {
                if self.binds_param(name.as_str()) {
                    self.ok = false;
                    return;
                }
                let outer = self.refused;
                self.refused = true;
                visitor::walk_stmt(self, stmt);
                self.refused = outer;
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. })
                if names.iter().any(|n| self.binds_param(n.as_str())) =>
            {
                self.ok = false;
            }
            Stmt::Import(ast::StmtImport { names, .. })
            | Stmt::ImportFrom(ast::StmtImportFrom { names, .. })
                if names.iter().any(|alias| {
                    let bound = alias.asname.as_ref().unwrap_or(&alias.name).as_str();
                    self.binds_param(bound.split('.').next().unwrap_or(bound))
                }) =>
            {
                self.ok = false;
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.ok {
            return;
        }
        match expr {
            Expr::Name(name) => {
                let id = name.id.as_str();
                if id == self.param || matches!(id, "locals" | "vars" | "eval" | "exec") {
                    self.ok = false;
                }
            }
            Expr::Yield(_) | Expr::YieldFrom(_) => self.ok = false,
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// Whether the `if` testing the parameter (`negated`: `if not param:`) raises first when the
/// parameter is true, and returns `None` quietly when it is false; `rest` follows it.
fn switch_is_exact(if_stmt: &ast::StmtIf, negated: bool, rest: &[Stmt]) -> bool {
    let else_body: &[Stmt] = match if_stmt.elif_else_clauses.as_slice() {
        [] => &[],
        [clause] if clause.test.is_none() => &clause.body,
        _ => return false,
    };
    let (when_true, when_false) = if negated {
        (else_body, if_stmt.body.as_slice())
    } else {
        (if_stmt.body.as_slice(), else_body)
    };
    let raises = matches!(when_true.first().or(rest.first()), Some(Stmt::Raise(_)));
    raises && returns_none_quietly(when_false.iter().chain(rest))
}

/// Whether `statements` are calls, `pass` and `if`s of these up to a `return` of `None`.
fn returns_none_quietly<'s>(mut statements: impl Iterator<Item = &'s Stmt>) -> bool {
    statements
        .find(|stmt| !is_quiet(stmt, None))
        .is_some_and(|stmt| matches!(stmt, Stmt::Return(ret) if returns_none(ret)))
}

/// Whether what follows `result = f(...)` in its block, up to a `return` of `result` or `None`,
/// is quiet statements not reading `result`, and `if result:` or `if result is not None:`
/// without `elif` or `else`.
fn result_is_guarded(result: &str, rest: &[Stmt]) -> bool {
    for stmt in rest {
        match stmt {
            Stmt::Return(ret) => {
                return returns_none(ret)
                    || matches!(ret.value.as_deref(), Some(Expr::Name(n)) if n.id.as_str() == result);
            }
            Stmt::If(if_stmt)
                if if_stmt.elif_else_clauses.is_empty()
                    && is_not_none_test(&if_stmt.test, result) => {}
            _ if is_quiet(stmt, Some(result)) => {}
            _ => return false,
        }
    }
    false
}

/// `result` or `result is not None`.
fn is_not_none_test(test: &Expr, result: &str) -> bool {
    let is_result = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == result);
    match test {
        Expr::Compare(compare) => {
            is_result(&compare.left)
                && matches!(&*compare.ops, [ast::CmpOp::IsNot])
                && matches!(&*compare.comparators, [Expr::NoneLiteral(_)])
        }
        other => is_result(other),
    }
}

fn returns_none(ret: &ast::StmtReturn) -> bool {
    matches!(ret.value.as_deref(), None | Some(Expr::NoneLiteral(_)))
}

/// A call or `pass`, or an `if` whose branches hold only these: it stores nothing the function
/// writes itself. With `unread`, none of it reads that name.
fn is_quiet(stmt: &Stmt, unread: Option<&str>) -> bool {
    let reads = |expr: &Expr| unread.is_some_and(|name| mentions(expr, name));
    match stmt {
        Stmt::Pass(_) => true,
        Stmt::Expr(e) => matches!(&*e.value, Expr::Call(_)) && !reads(&e.value),
        Stmt::If(if_stmt) => {
            !reads(&if_stmt.test)
                && if_stmt.body.iter().all(|s| is_quiet(s, unread))
                && if_stmt.elif_else_clauses.iter().all(|clause| {
                    !clause.test.as_ref().is_some_and(reads)
                        && clause.body.iter().all(|s| is_quiet(s, unread))
                })
        }
        _ => false,
    }
}

fn mentions(expr: &Expr, name: &str) -> bool {
    struct Mentions<'n> {
        name: &'n str,
        found: bool,
    }
    impl<'a> Visitor<'a> for Mentions<'_> {
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) if n.id.as_str() == self.name => self.found = true,
                _ if !self.found => visitor::walk_expr(self, expr),
                _ => {}
            }
        }
    }
    let mut mentions = Mentions { name, found: false };
    mentions.visit_expr(expr);
    mentions.found
}
