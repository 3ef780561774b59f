//! Code the parser accepts but CPython's compiler refuses, reported like syntax errors with
//! CPython's message and line: a file CPython cannot compile is never imported, so none of it runs.
//!
//! Checked: `return` outside a function, a parameter name given twice, `from __future__` after
//! other statements, and `except A, B:` (refused by CPython before 3.14).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ModModule, Parameters, Stmt};
use ruff_python_parser::{Parsed, UnsupportedSyntaxErrorKind};
use ruff_text_size::{Ranged, TextSize};

use super::SyntaxError;

/// The first construct CPython would refuse, in source order.
pub(super) fn check(source: &str, parsed: &Parsed<ModModule>) -> Result<(), SyntaxError> {
    let mut checker = Checker {
        in_function: false,
        lambda_in_statement: false,
        first: None,
        lambda_words: memchr::memmem::find_iter(source.as_bytes(), b"lambda")
            .map(|offset| offset as u32)
            .collect(),
    };
    let module = parsed.syntax();
    checker.check_future_imports(&module.body);
    checker.visit_body(&module.body);
    for error in parsed.unsupported_syntax_errors() {
        if matches!(
            error.kind,
            UnsupportedSyntaxErrorKind::UnparenthesizedExceptionTypes
        ) {
            checker.report(
                error.range.start(),
                "multiple exception types must be parenthesized",
            );
        }
    }
    match checker.first {
        Some(error) => Err(error),
        None => Ok(()),
    }
}

struct Checker {
    /// Whether the innermost enclosing scope is a function (a class body is not).
    in_function: bool,
    first: Option<SyntaxError>,
    /// Where the text `lambda` occurs in the source, in order: every lambda keyword among them.
    /// Expressions are the bulk of a tree and only a lambda in one can be refused, so an
    /// expression without the word in its text is not walked.
    lambda_words: Vec<u32>,
    /// Whether the statement being walked has the word in its text. Its expressions are looked at
    /// only then: most statements have none, and asking each expression for its range costs more
    /// than asking the statement once.
    lambda_in_statement: bool,
}

impl Checker {
    fn may_hold_lambda(&self, node: &impl Ranged) -> bool {
        if self.lambda_words.is_empty() {
            return false;
        }
        let range = node.range();
        let first_at_or_after = self
            .lambda_words
            .partition_point(|&offset| offset < range.start().to_u32());
        self.lambda_words
            .get(first_at_or_after)
            .is_some_and(|&offset| offset < range.end().to_u32())
    }

    fn report(&mut self, offset: TextSize, message: &str) {
        let offset = offset.to_u32();
        if self.first.as_ref().is_none_or(|e| offset < e.offset) {
            self.first = Some(SyntaxError {
                offset,
                message: format!("syntax error: {message}"),
            });
        }
    }

    /// `from __future__` imports may follow only the docstring and each other.
    fn check_future_imports(&mut self, body: &[Stmt]) {
        let mut allowed = true;
        for (i, stmt) in body.iter().enumerate() {
            match stmt {
                Stmt::ImportFrom(import) if import.module.as_deref() == Some("__future__") => {
                    if !allowed {
                        self.report(
                            stmt.start(),
                            "from __future__ imports must occur at the beginning of the file",
                        );
                    }
                }
                Stmt::Expr(expr) if i == 0 && expr.value.is_string_literal_expr() => {}
                _ => allowed = false,
            }
        }
    }

    fn check_parameters(&mut self, parameters: &Parameters) {
        // Most functions take a handful of parameters: comparing each with those before it is
        // cheaper than a hash set, which long lists still get.
        const SCAN_UP_TO: usize = 16;
        let mut seen = rustc_hash::FxHashSet::default();
        for (i, parameter) in parameters.iter().enumerate() {
            let name = parameter.name();
            let repeated = if i < SCAN_UP_TO {
                parameters
                    .iter()
                    .take(i)
                    .any(|earlier| earlier.name().as_str() == name.as_str())
            } else {
                if seen.is_empty() {
                    seen.extend(parameters.iter().take(i).map(|p| p.name().as_str()));
                }
                !seen.insert(name.as_str())
            };
            if repeated {
                self.report(
                    name.start(),
                    &format!(
                        "duplicate argument '{}' in function definition",
                        name.as_str()
                    ),
                );
            }
        }
    }
}

impl Checker {
    fn visit_statement(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::FunctionDef(function) => {
                self.check_parameters(&function.parameters);
                let outer = std::mem::replace(&mut self.in_function, true);
                visitor::walk_stmt(self, stmt);
                self.in_function = outer;
            }
            Stmt::ClassDef(_) => {
                let outer = std::mem::replace(&mut self.in_function, false);
                visitor::walk_stmt(self, stmt);
                self.in_function = outer;
            }
            Stmt::Return(_) if !self.in_function => {
                self.report(stmt.start(), "'return' outside function");
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }
}

impl Checker {
    /// A statement with no `lambda` in its text: only the statements in its bodies can be
    /// refused, so its expressions are not walked (walking them was most of this check's cost).
    fn visit_bodies(&mut self, stmt: &Stmt) {
        match stmt {
            Stmt::FunctionDef(function) => {
                self.check_parameters(&function.parameters);
                let outer = std::mem::replace(&mut self.in_function, true);
                self.visit_statements(&function.body);
                self.in_function = outer;
            }
            Stmt::ClassDef(class) => {
                let outer = std::mem::replace(&mut self.in_function, false);
                self.visit_statements(&class.body);
                self.in_function = outer;
            }
            Stmt::Return(_) if !self.in_function => {
                self.report(stmt.start(), "'return' outside function");
            }
            Stmt::For(for_stmt) => {
                self.visit_statements(&for_stmt.body);
                self.visit_statements(&for_stmt.orelse);
            }
            Stmt::While(while_stmt) => {
                self.visit_statements(&while_stmt.body);
                self.visit_statements(&while_stmt.orelse);
            }
            Stmt::If(if_stmt) => {
                self.visit_statements(&if_stmt.body);
                for clause in &if_stmt.elif_else_clauses {
                    self.visit_statements(&clause.body);
                }
            }
            Stmt::With(with) => self.visit_statements(&with.body),
            Stmt::Try(try_stmt) => {
                self.visit_statements(&try_stmt.body);
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    self.visit_statements(&handler.body);
                }
                self.visit_statements(&try_stmt.orelse);
                self.visit_statements(&try_stmt.finalbody);
            }
            Stmt::Match(match_stmt) => {
                for case in &match_stmt.cases {
                    self.visit_statements(&case.body);
                }
            }
            _ => {}
        }
    }

    fn visit_statements(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.visit_stmt(stmt);
        }
    }
}

impl<'a> Visitor<'a> for Checker {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        let has_lambda = self.may_hold_lambda(stmt);
        if !has_lambda {
            self.visit_bodies(stmt);
            return;
        }
        let outer_statement = std::mem::replace(&mut self.lambda_in_statement, has_lambda);
        self.visit_statement(stmt);
        self.lambda_in_statement = outer_statement;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !self.lambda_in_statement || !self.may_hold_lambda(expr) {
            return;
        }
        if let Expr::Lambda(lambda) = expr
            && let Some(parameters) = &lambda.parameters
        {
            self.check_parameters(parameters);
        }
        visitor::walk_expr(self, expr);
    }
}
