//! The facts of the proof that a call runs only while the event loop that serves requests does
//! not (`project/callgraph/serving_loop.rs`): functions that test whether a global's event loop
//! runs, the parts of `if` statements such a test's falsity guards, the stores of the running
//! loop in attributes of modules, and the calls a generator makes before it first yields (a
//! lifespan handler's start-up).
//!
//! The stores are noted during the extractor's walk ([`running_loop_store`], so that the rebinds
//! leave them out); the rest is read here, from the module's statements, once the walk is over.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, CmpOp, Expr, Stmt, UnaryOp};
use ruff_text_size::Ranged;

use crate::facts::{FileFacts, FuncIdx, Name, Span, intern};

use super::MAX_WALK_DEPTH;

/// The target (as written) and callee of `X.attr = asyncio.get_running_loop()`, when `X` is a
/// name other than `self` and `cls` or a dotted path of names: the one shape
/// [`crate::facts::RunningLoopStore`] records.
pub(super) fn running_loop_store(assign: &ast::StmtAssign) -> Option<(&ast::ExprAttribute, Name)> {
    let [Expr::Attribute(target)] = &assign.targets[..] else {
        return None;
    };
    let Expr::Call(call) = &*assign.value else {
        return None;
    };
    if !call.arguments.is_empty() {
        return None;
    }
    let callee = match &*call.func {
        Expr::Attribute(attribute)
            if attribute.attr.as_str() == "get_running_loop"
                && matches!(&*attribute.value, Expr::Name(module) if module.id.as_str() == "asyncio") =>
        {
            "asyncio.get_running_loop"
        }
        Expr::Name(name) if name.id.as_str() == "get_running_loop" => "get_running_loop",
        _ => return None,
    };
    dotted_names(&target.value)?;
    Some((target, intern(callee)))
}

/// `object` as dotted text when it is a name other than `self` and `cls`, or a dotted path of
/// names starting with one.
fn dotted_names(object: &Expr) -> Option<String> {
    match object {
        Expr::Name(name) if !matches!(name.id.as_str(), "self" | "cls") => {
            Some(name.id.to_string())
        }
        Expr::Attribute(attribute) => {
            let mut path = dotted_names(&attribute.value)?;
            path.push('.');
            path.push_str(attribute.attr.as_str());
            Some(path)
        }
        _ => None,
    }
}

/// The target of a store [`running_loop_store`] accepted, as written.
pub(super) fn store_target(target: &ast::ExprAttribute) -> Name {
    let mut path = dotted_names(&target.value).unwrap_or_default();
    path.push('.');
    path.push_str(target.attr.as_str());
    intern(&path)
}

/// Reads the rest of the facts from the module's statements, once the walk has recorded the
/// functions, calls and running-loop stores.
pub(super) fn record(module: &[Stmt], facts: &mut FileFacts) {
    let mut found = Found::default();
    walk_body(module, None, facts, &mut found, 0);
    facts.loop_running_tests = found.tests.into_iter().collect();
    facts.calls_unless_tested = found.unless.into_iter().collect();
    facts.leading_calls = found.leading.into_iter().collect();
    facts.global_declarations = found.globals.into_iter().collect();
    for (start, in_generator) in found.every_run_stores {
        for store in facts.running_loop_stores.iter_mut() {
            if store.start == start {
                store.every_run = true;
                store.in_generator = in_generator;
            }
        }
    }
}

#[derive(Default)]
struct Found {
    tests: Vec<(FuncIdx, Name)>,
    unless: Vec<(u32, Span)>,
    leading: Vec<(FuncIdx, u32, bool)>,
    /// Starts of the assignments made on every run of their function, and whether it is a
    /// generator.
    every_run_stores: Vec<(u32, bool)>,
    globals: Vec<(Option<FuncIdx>, Name)>,
}

fn walk_body(
    body: &[Stmt],
    function: Option<FuncIdx>,
    facts: &FileFacts,
    found: &mut Found,
    depth: u32,
) {
    if depth > MAX_WALK_DEPTH {
        return;
    }
    for stmt in body {
        match stmt {
            Stmt::FunctionDef(definition) => {
                let index = facts
                    .function_ranges
                    .iter()
                    .position(|range| range.start == definition.range().start().to_u32())
                    .map(|index| index as FuncIdx);
                if let Some(index) = index {
                    function_facts(definition, index, facts, found);
                }
                walk_body(&definition.body, index, facts, found, depth + 1);
            }
            Stmt::ClassDef(class) => walk_body(&class.body, None, facts, found, depth + 1),
            Stmt::Global(global) => found.globals.extend(
                global
                    .names
                    .iter()
                    .map(|name| (function, intern(name.as_str()))),
            ),
            Stmt::If(if_stmt) => {
                unless_tested(if_stmt, facts, found);
                walk_body(&if_stmt.body, function, facts, found, depth + 1);
                for clause in &if_stmt.elif_else_clauses {
                    walk_body(&clause.body, function, facts, found, depth + 1);
                }
            }
            Stmt::For(for_stmt) => {
                walk_body(&for_stmt.body, function, facts, found, depth + 1);
                walk_body(&for_stmt.orelse, function, facts, found, depth + 1);
            }
            Stmt::While(while_stmt) => {
                walk_body(&while_stmt.body, function, facts, found, depth + 1);
                walk_body(&while_stmt.orelse, function, facts, found, depth + 1);
            }
            Stmt::With(with) => walk_body(&with.body, function, facts, found, depth + 1),
            Stmt::Try(try_stmt) => {
                walk_body(&try_stmt.body, function, facts, found, depth + 1);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    walk_body(&handler.body, function, facts, found, depth + 1);
                }
                walk_body(&try_stmt.orelse, function, facts, found, depth + 1);
                walk_body(&try_stmt.finalbody, function, facts, found, depth + 1);
            }
            Stmt::Match(match_stmt) => {
                for case in &match_stmt.cases {
                    walk_body(&case.body, function, facts, found, depth + 1);
                }
            }
            _ => {}
        }
    }
}

/// The index in `calls` of the call (not a reference) with exactly this range.
fn call_index(facts: &FileFacts, call: &ast::ExprCall) -> Option<u32> {
    let (start, end) = (call.range().start().to_u32(), call.range().end().to_u32());
    facts
        .calls
        .iter()
        .position(|site| !site.reference() && site.span.start == start && site.span.end == end)
        .map(|index| index as u32)
}

/// The part of `if_stmt` that runs only when its test, a call with no arguments, is false.
fn unless_tested(if_stmt: &ast::StmtIf, facts: &FileFacts, found: &mut Found) {
    let (call, negated) = match &*if_stmt.test {
        Expr::Call(call) => (call, false),
        Expr::UnaryOp(unary) if unary.op == UnaryOp::Not => match &*unary.operand {
            Expr::Call(call) => (call, true),
            _ => return,
        },
        _ => return,
    };
    if !call.arguments.is_empty() || !matches!(&*call.func, Expr::Name(_) | Expr::Attribute(_)) {
        return;
    }
    let part = if negated {
        match (if_stmt.body.first(), if_stmt.body.last()) {
            (Some(first), Some(last)) => {
                Span::new(first.range().start().to_u32(), last.range().end().to_u32())
            }
            _ => return,
        }
    } else {
        match if_stmt.elif_else_clauses.first() {
            Some(clause) => Span::new(
                clause.range().start().to_u32(),
                if_stmt.range().end().to_u32(),
            ),
            None => return,
        }
    };
    if let Some(index) = call_index(facts, call) {
        found.unless.push((index, part));
    }
}

/// What a function's own definition tells: whether it is a loop-running test, which running-loop
/// stores of its body run on every call, and, for a generator, its leading calls.
fn function_facts(
    function: &ast::StmtFunctionDef,
    index: FuncIdx,
    facts: &FileFacts,
    found: &mut Found,
) {
    if let Some(global) = loop_running_test(function) {
        found.tests.push((index, global));
    }
    let generator = function.body.iter().any(|stmt| holds_exit(stmt, false));
    let mut exited = false;
    for stmt in &function.body {
        if exited {
            break;
        }
        match stmt {
            Stmt::Assign(assign) if running_loop_store(assign).is_some() => {
                found
                    .every_run_stores
                    .push((assign.range().start().to_u32(), generator));
            }
            Stmt::Expr(expression) if generator => {
                let (call, awaited) = match &*expression.value {
                    Expr::Call(call) => (call, false),
                    Expr::Await(awaited) => match &*awaited.value {
                        Expr::Call(call) => (call, true),
                        _ => continue,
                    },
                    _ => continue,
                };
                if let Some(call) = call_index(facts, call) {
                    found.leading.push((index, call, awaited));
                }
            }
            _ => {}
        }
        exited = holds_exit(stmt, true);
    }
}

/// `N` when the function takes no parameters and its body (after a docstring) is only
/// `return N is not None and N.is_running()`.
fn loop_running_test(function: &ast::StmtFunctionDef) -> Option<Name> {
    if !function.parameters.is_empty() {
        return None;
    }
    let body = match &function.body[..] {
        [Stmt::Expr(doc), rest @ ..] if doc.value.is_string_literal_expr() => rest,
        body => body,
    };
    let [Stmt::Return(ret)] = body else {
        return None;
    };
    let Some(Expr::BoolOp(bool_op)) = ret.value.as_deref() else {
        return None;
    };
    let [Expr::Compare(compare), Expr::Call(call)] = &bool_op.values[..] else {
        return None;
    };
    if bool_op.op != ast::BoolOp::And {
        return None;
    }
    let Expr::Name(tested) = &*compare.left else {
        return None;
    };
    if !matches!(&compare.ops[..], [CmpOp::IsNot])
        || !matches!(&compare.comparators[..], [Expr::NoneLiteral(_)])
    {
        return None;
    }
    let Expr::Attribute(method) = &*call.func else {
        return None;
    };
    let called_on_it = matches!(&*method.value, Expr::Name(name) if name.id == tested.id);
    (called_on_it && method.attr.as_str() == "is_running" && call.arguments.is_empty())
        .then(|| intern(tested.id.as_str()))
}

/// Whether `stmt` holds a `yield` (or `yield from`), or with `returns` a `return`, of the
/// function whose statement it is (not of a function, class or lambda defined in it).
fn holds_exit(stmt: &Stmt, returns: bool) -> bool {
    struct Exits {
        returns: bool,
        found: bool,
        depth: u32,
    }
    impl<'a> Visitor<'a> for Exits {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            if self.found {
                return;
            }
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                Stmt::Return(_) if self.returns => self.found = true,
                _ => {
                    self.depth += 1;
                    // Too deep to walk: taken as an exit, which errs on the side of no proof.
                    if self.depth > MAX_WALK_DEPTH {
                        self.found = true;
                    } else {
                        visitor::walk_stmt(self, stmt);
                    }
                    self.depth -= 1;
                }
            }
        }

        fn visit_expr(&mut self, expr: &'a Expr) {
            if self.found {
                return;
            }
            match expr {
                Expr::Yield(_) | Expr::YieldFrom(_) => self.found = true,
                Expr::Lambda(_) => {}
                _ => {
                    self.depth += 1;
                    if self.depth > MAX_WALK_DEPTH {
                        self.found = true;
                    } else {
                        visitor::walk_expr(self, expr);
                    }
                    self.depth -= 1;
                }
            }
        }
    }
    let mut exits = Exits {
        returns,
        found: false,
        depth: 0,
    };
    exits.visit_stmt(stmt);
    exits.found
}
