//! Parameters whose empty default nothing can fill or hand on: every use of the parameter that
//! could (a write, a store, a return, an argument) is inside a branch of an `if` that has just
//! found the parameter true, and the other uses only read it or take entries out (`pop`,
//! `clear`, `del p[k]`, `dict(p)`, `k in p`). An empty container is false, so the default fails
//! every such test while it stays empty, and outside the tests nothing can put an entry into it:
//! by induction over the calls it stays empty and never leaves the function, whatever the
//! guarded branches do (`def get(layout={}): if layout: return layout`; cloudkitty's `if
//! filters: filters[k] = v` with `filters.pop("type", [])` after the test). SL301 reports
//! nothing for it.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};

use crate::knowledge;

/// Whether every read of `name` in `body` (nested functions, classes, lambdas and comprehensions
/// included) is inside the branch of an `if` (or `elif`) whose test is `name` itself or an `and`
/// with `name` as one operand, or neither fills nor hands on the object (see
/// [`Walk::empties_or_reads`]), no `name += ...` outside those branches, and nothing declares `name` `global` or `nonlocal` nor reads the
/// local namespace (`locals`, `vars`, `eval`, `exec`). Rebinding `name` is allowed: the new value
/// is never the default, which no read outside the tests hands on to be bound again.
pub(super) fn filled_or_handed_on_only_when_true(body: &[Stmt], name: &str) -> bool {
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

impl Walk<'_> {
    fn is_name(&self, expr: &Expr) -> bool {
        matches!(expr, Expr::Name(n) if n.id.as_str() == self.name && n.ctx == ExprContext::Load)
    }

    /// A use of the name that neither puts anything into the object nor hands it on, with the
    /// parts of `expr` still to walk: `not name` (a `bool`), `k in name`, `name[k]` read or
    /// deleted, `name.pop(k)` and the other methods that only read or take entries out (they
    /// hand on an entry or a new object, never the container), `len(name)` and the builtins
    /// that copy (`dict(name)`).
    fn empties_or_reads<'e>(&self, expr: &'e Expr) -> Option<Vec<&'e Expr>> {
        match expr {
            Expr::UnaryOp(unary)
                if unary.op == ast::UnaryOp::Not && self.is_name(&unary.operand) =>
            {
                Some(Vec::new())
            }
            Expr::Compare(compare)
                if compare.ops.len() == 1
                    && matches!(compare.ops[0], ast::CmpOp::In | ast::CmpOp::NotIn)
                    && self.is_name(&compare.comparators[0]) =>
            {
                Some(vec![&*compare.left])
            }
            // `ctx` is the subscript's own: `name[k] = v` stores into the object.
            Expr::Subscript(subscript)
                if subscript.ctx != ExprContext::Store && self.is_name(&subscript.value) =>
            {
                Some(vec![&*subscript.slice])
            }
            Expr::Call(call) => {
                let only_reads = match &*call.func {
                    Expr::Attribute(attribute) => {
                        self.is_name(&attribute.value)
                            && (knowledge::REMOVING_METHODS.contains(&attribute.attr.as_str())
                                || knowledge::READING_METHODS.contains(&attribute.attr.as_str()))
                    }
                    Expr::Name(callee) => {
                        knowledge::READING_BUILTINS.contains(&callee.id.as_str())
                            && call.arguments.args.len() == 1
                            && call.arguments.keywords.is_empty()
                            && self.is_name(&call.arguments.args[0])
                    }
                    _ => false,
                };
                only_reads.then(|| {
                    call.arguments
                        .args
                        .iter()
                        .chain(call.arguments.keywords.iter().map(|k| &k.value))
                        .filter(|a| !self.is_name(a))
                        .collect()
                })
            }
            _ => None,
        }
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
            // `name += more` changes a list or a set in place before it binds the name.
            Stmt::AugAssign(aug)
                if !self.guarded
                    && matches!(&*aug.target, Expr::Name(n) if n.id.as_str() == self.name) =>
            {
                self.ok = false;
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
        if !self.guarded
            && let Some(rest) = self.empties_or_reads(expr)
        {
            for part in rest {
                self.visit_expr(part);
            }
            return;
        }
        if let Expr::Name(n) = expr {
            let id = n.id.as_str();
            if id == self.name {
                // A binding or `del` of the name leaves the default where it was.
                if n.ctx == ExprContext::Load && !self.guarded {
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
