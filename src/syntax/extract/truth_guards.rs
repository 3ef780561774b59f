//! Parameters read only where an `if` has just found them true: `def get(layout={}): if layout:
//! return layout`. An empty container is false, so when such a parameter's default is an empty
//! container, no read of the parameter ever gives the default: nothing hands it out or changes
//! it, and it stays empty (SL301 reports nothing for it).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};

/// Whether every read of `name` in `body` (nested functions, classes, lambdas and comprehensions
/// included) is inside the branch of an `if` (or `elif`) whose test is `name` itself or an `and`
/// with `name` as one operand, or is `not name`, and nothing binds `name` (no assignment, loop or
/// `with` target, `del`, `global` or `nonlocal`) nor reads the local namespace (`locals`, `vars`,
/// `eval`, `exec`).
pub(super) fn read_only_when_true(body: &[Stmt], name: &str) -> bool {
    let mut walk = Walk {
        name,
        guarded: false,
        ok: true,
    };
    walk.visit_body(body);
    walk.ok
}

struct Walk<'n> {
    name: &'n str,
    /// Inside a branch whose test found `name` true.
    guarded: bool,
    ok: bool,
}

impl Walk<'_> {
    /// Whether `test` requires `name` to be true: `name`, or `... and name and ...`.
    fn tests_name(&self, test: &Expr) -> bool {
        match test {
            Expr::Name(n) => n.id.as_str() == self.name,
            Expr::BoolOp(b) if b.op == ast::BoolOp::And => b
                .values
                .iter()
                .any(|v| matches!(v, Expr::Name(n) if n.id.as_str() == self.name)),
            _ => false,
        }
    }

    /// One `if`/`elif` clause: its test (the name's own operands aside, read as outside the
    /// branch), then its body, guarded when the test requires the name to be true.
    fn clause(&mut self, test: &Expr, body: &[Stmt], outer: bool) {
        self.guarded = outer;
        if self.tests_name(test) {
            if let Expr::BoolOp(b) = test {
                for value in &b.values {
                    if !matches!(value, Expr::Name(n) if n.id.as_str() == self.name) {
                        self.visit_expr(value);
                    }
                }
            }
            self.guarded = true;
        } else {
            self.visit_expr(test);
        }
        self.visit_body(body);
        self.guarded = outer;
    }
}

impl<'a> Visitor<'a> for Walk<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if !self.ok {
            return;
        }
        match stmt {
            Stmt::If(if_stmt) => {
                let outer = self.guarded;
                self.clause(&if_stmt.test, &if_stmt.body, outer);
                for clause in &if_stmt.elif_else_clauses {
                    match &clause.test {
                        Some(test) => self.clause(test, &clause.body, outer),
                        None => {
                            self.guarded = outer;
                            self.visit_body(&clause.body);
                        }
                    }
                }
                self.guarded = outer;
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                if names.iter().any(|n| n.as_str() == self.name) {
                    self.ok = false;
                }
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.ok {
            return;
        }
        // `not name` makes a `bool`: it hands nothing of the value on.
        if let Expr::UnaryOp(unary) = expr
            && unary.op == ast::UnaryOp::Not
            && matches!(&*unary.operand, Expr::Name(n) if n.id.as_str() == self.name)
        {
            return;
        }
        if let Expr::Name(n) = expr {
            let id = n.id.as_str();
            if id == self.name {
                if n.ctx != ExprContext::Load || !self.guarded {
                    self.ok = false;
                }
            } else if matches!(id, "locals" | "vars" | "eval" | "exec") {
                self.ok = false;
            }
            return;
        }
        visitor::walk_expr(self, expr);
    }
}
