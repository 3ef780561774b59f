//! Methods named like a container's mutating method that leave their receiver alone: the proof
//! that `page.update()` on one value of a class-level dict is the value's own method, not a
//! write, may trust only a body it can read whole (see `rules/common.rs`'s
//! `calls_declared_elements_method`).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};

use crate::facts::{FuncIdx, FunctionKind};
use crate::knowledge;

use super::{Extractor, MAX_WALK_DEPTH, dotted_name};

/// Calls that reach a function's locals, the receiver among them, without naming it.
const LOCALS_READING_CALLS: &[&str] = &[
    "locals",
    "vars",
    "eval",
    "exec",
    "sys._getframe",
    "inspect.currentframe",
    "inspect.stack",
];

/// Whether a body uses its receiver anywhere but in `return self`, or may reach it unseen.
struct ReceiverUse<'a> {
    receiver: &'a str,
    used: bool,
    depth: u32,
}

impl<'a> Visitor<'a> for ReceiverUse<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.used {
            return;
        }
        if self.depth > MAX_WALK_DEPTH {
            self.used = true;
            return;
        }
        match stmt {
            Stmt::Return(ast::StmtReturn {
                value: Some(value), ..
            }) if matches!(&**value, Expr::Name(n) if n.id.as_str() == self.receiver) => {}
            // `del` unbinds or removes through names the walk would have to follow.
            Stmt::Delete(_) => self.used = true,
            _ => {
                self.depth += 1;
                visitor::walk_stmt(self, stmt);
                self.depth -= 1;
            }
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.used {
            return;
        }
        if self.depth > MAX_WALK_DEPTH {
            self.used = true;
            return;
        }
        match expr {
            Expr::Name(name) if name.id.as_str() == self.receiver => self.used = true,
            // A walrus may bind an alias the other facts do not follow.
            Expr::Named(_) => self.used = true,
            Expr::Call(call)
                if dotted_name(&call.func)
                    .is_some_and(|callee| LOCALS_READING_CALLS.contains(&callee.as_str())) =>
            {
                self.used = true
            }
            _ => {
                self.depth += 1;
                visitor::walk_expr(self, expr);
                self.depth -= 1;
            }
        }
    }
}

impl Extractor {
    /// Records `idx` when it is an instance method named like a container's mutating method
    /// whose body uses the receiver at most in `return self`.
    pub(super) fn record_receiver_left_alone(
        &mut self,
        idx: FuncIdx,
        function: &ast::StmtFunctionDef,
    ) {
        let facts = &self.facts.functions[idx as usize];
        if facts.kind != FunctionKind::Instance
            || facts.class.is_none()
            || !knowledge::MUTATING_METHODS.contains(&facts.name.as_str())
        {
            return;
        }
        let Some(receiver) = facts.params.first().map(|p| p.name) else {
            return;
        };
        let mut walk = ReceiverUse {
            receiver: receiver.as_str(),
            used: false,
            depth: 0,
        };
        for stmt in &function.body {
            walk.visit_stmt(stmt);
        }
        if !walk.used {
            self.facts.receiver_left_alone.push(idx);
        }
    }
}
