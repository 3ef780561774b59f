//! Branches of a function that no call runs: the body of an `if`/`elif` whose test is false on
//! every path to it, and the branches after one whose test is true on every path. `if not name:
//! name = ".ssh"` leaves `name` true, so a later `if not name:` never runs its body.
//!
//! The walk follows, statement by statement, the plain local names known to be true:
//! - **by value**: bound to a literal of an immutable type that is true (a non-empty string or
//!   bytes, a number other than zero, `True`, a non-empty tuple display), to another name known
//!   true by value, or to `self.A[i]` where `A` is bound once, at the top of the method's class
//!   body, to a tuple of such literals (`SSH_DIRS = (".ssh", "ssh")`). Nothing but a new binding
//!   of the name changes it; a proof that reads `self.A` names `A`, and holds only while nothing
//!   else in the tree binds or stores `A` (`model::dead_code`);
//! - **by test**: a name that a test the path passed requires to be true (`if name:`, the
//!   failed `if not name:`, operands of `and` when true, of `or` when false, an early `if not
//!   name: return`). The object may be mutable, so this holds only until the name is bound
//!   again, used other than as a test's operand or an argument of a call that only reads
//!   (`os.path.*`, `knowledge::READING_BUILTINS`), or any other call, `await` or `yield` runs
//!   (it could empty the object or change what its `__bool__` reads).
//!
//! At the end of a branch that falls through, what every path agrees on is kept (the weaker kind
//! when they differ); a branch ending in `return`, `raise`, `continue` or `break` hands nothing
//! on. Loops, `try`, `with` and `match` keep only what nothing in them touches. Names a `global`
//! or `nonlocal` statement of the function (nested scopes included) names are never known.
//! Binds made by other functions (a called method setting a closure's name) are not seen.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::{Name, intern};
use crate::knowledge;

use super::nonempty_reads::visit_bound;

/// How deep the walk follows nested blocks: below it, nothing is known (so nothing is claimed).
const MAX_DEPTH: usize = 64;

/// A name known to be true.
#[derive(Clone, Debug)]
struct Known {
    name: String,
    /// By value: only a new binding changes it.
    firm: bool,
    /// The attributes of the class (`self.A`) the proof reads.
    class_attrs: Vec<Name>,
}

/// The bodies (start, end) of the branches of `body` (a function's) that never run, each with
/// the class attributes its proof reads. `self_name` is the instance parameter's name in an
/// instance method; `true_tuples` the names the method's class binds once to a tuple of true
/// literals.
pub(super) fn dead_branches(
    body: &[Stmt],
    self_name: Option<&str>,
    true_tuples: &[Name],
) -> Vec<((u32, u32), Vec<Name>)> {
    let mut untracked = Vec::new();
    for stmt in body {
        declared_outside(stmt, &mut untracked);
    }
    // `self.A` reads the class's `A` only while `self` is the instance parameter.
    let mut self_bound = false;
    if let Some(self_name) = self_name {
        for stmt in body {
            visit_bound(stmt, &mut |bound: &str| self_bound |= bound == self_name);
        }
    }
    let self_name = self_name.filter(|_| !self_bound);
    let mut walk = Walk {
        self_name,
        true_tuples,
        untracked,
        found: Vec::new(),
    };
    walk.block(body, Vec::new(), 0);
    walk.found
}

struct Walk<'a> {
    self_name: Option<&'a str>,
    true_tuples: &'a [Name],
    untracked: Vec<String>,
    found: Vec<((u32, u32), Vec<Name>)>,
}

impl Walk<'_> {
    /// Walks `block` from `known`; what is known after its last statement, or `None` when it
    /// never falls through.
    fn block(&mut self, block: &[Stmt], known: Vec<Known>, depth: usize) -> Option<Vec<Known>> {
        if depth > MAX_DEPTH {
            return Some(Vec::new());
        }
        let mut known = known;
        for stmt in block {
            known = self.stmt(stmt, known, depth)?;
        }
        Some(known)
    }

    fn dead(&mut self, block: &[Stmt], class_attrs: Vec<Name>) {
        if let (Some(first), Some(last)) = (block.first(), block.last()) {
            self.found.push((
                (first.range().start().to_u32(), last.range().end().to_u32()),
                class_attrs,
            ));
        }
    }

    fn stmt(&mut self, stmt: &Stmt, known: Vec<Known>, depth: usize) -> Option<Vec<Known>> {
        match stmt {
            Stmt::Return(_) | Stmt::Raise(_) | Stmt::Continue(_) | Stmt::Break(_) => None,
            Stmt::If(s) => self.if_stmt(s, known, depth),
            Stmt::Assign(s) => {
                let value = self.true_value(&s.value, &known);
                let mut after = touched_by(stmt, known);
                if let [Expr::Name(target)] = &s.targets[..]
                    && let Some(class_attrs) = value
                    && !self.untracked.iter().any(|n| n == target.id.as_str())
                {
                    after.push(Known {
                        name: target.id.to_string(),
                        firm: true,
                        class_attrs,
                    });
                }
                Some(after)
            }
            Stmt::While(_) | Stmt::For(_) | Stmt::With(_) | Stmt::Try(_) | Stmt::Match(_) => {
                // A `match` binds the names its patterns capture.
                let after = if matches!(stmt, Stmt::Match(_)) {
                    Vec::new()
                } else {
                    touched_by(stmt, known)
                };
                // The blocks are walked for their own dead branches, from what nothing in the
                // statement touches.
                self.inner_blocks(stmt, &after, depth);
                Some(after)
            }
            _ => Some(touched_by(stmt, known)),
        }
    }

    fn inner_blocks(&mut self, stmt: &Stmt, start: &[Known], depth: usize) {
        let walk = |this: &mut Self, block: &[Stmt]| {
            this.block(block, start.to_vec(), depth + 1);
        };
        match stmt {
            Stmt::While(s) => {
                walk(self, &s.body);
                walk(self, &s.orelse);
            }
            Stmt::For(s) => {
                walk(self, &s.body);
                walk(self, &s.orelse);
            }
            Stmt::With(s) => walk(self, &s.body),
            Stmt::Try(s) => {
                walk(self, &s.body);
                for handler in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = handler;
                    walk(self, &h.body);
                }
                walk(self, &s.orelse);
                walk(self, &s.finalbody);
            }
            Stmt::Match(s) => {
                for case in &s.cases {
                    walk(self, &case.body);
                }
            }
            _ => {}
        }
    }

    fn if_stmt(&mut self, s: &ast::StmtIf, known: Vec<Known>, depth: usize) -> Option<Vec<Known>> {
        let branches = std::iter::once((Some(&*s.test), &s.body)).chain(
            s.elif_else_clauses
                .iter()
                .map(|c| (c.test.as_ref(), &c.body)),
        );
        let mut current = known;
        // What falls through: the ends of the branches that may run and fall through, and the
        // path past every test when there is no `else`.
        let mut ends: Vec<Vec<Known>> = Vec::new();
        let mut taken: Option<Vec<Name>> = None;
        let mut has_else = false;
        for (test, body) in branches {
            if let Some(class_attrs) = &taken {
                // A branch before this one surely runs.
                self.dead(body, class_attrs.clone());
                continue;
            }
            let Some(test) = test else {
                has_else = true;
                if let Some(end) = self.block(body, current.clone(), depth + 1) {
                    ends.push(end);
                }
                continue;
            };
            let value = self.truth(test, &current);
            // The test itself runs: its calls and uses count before either outcome.
            current = touched_by_expr(test, current);
            match value {
                Some((false, class_attrs)) => self.dead(body, class_attrs),
                Some((true, class_attrs)) => {
                    if let Some(end) = self.block(body, current.clone(), depth + 1) {
                        ends.push(end);
                    }
                    taken = Some(class_attrs);
                }
                None => {
                    let mut when_true = current.clone();
                    self.assume(test, true, &mut when_true);
                    if let Some(end) = self.block(body, when_true, depth + 1) {
                        ends.push(end);
                    }
                    self.assume(test, false, &mut current);
                }
            }
        }
        if taken.is_none() && !has_else {
            ends.push(current);
        }
        let mut ends = ends.into_iter();
        let first = ends.next()?;
        Some(ends.fold(first, meet))
    }

    /// Whether `expr` is surely true (or false) given `known`, with the class attributes the
    /// answer reads; `None` when it may be either.
    fn truth(&self, expr: &Expr, known: &[Known]) -> Option<(bool, Vec<Name>)> {
        match expr {
            Expr::Name(name) => known
                .iter()
                .find(|k| k.name == name.id.as_str())
                .map(|k| (true, k.class_attrs.clone())),
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => {
                self.truth(&u.operand, known).map(|(t, a)| (!t, a))
            }
            Expr::BoolOp(b) => {
                // `and` is false when an operand is, true when all are; `or` the other way.
                let deciding = b.op == ast::BoolOp::Or;
                let mut all = Vec::new();
                for value in &b.values {
                    match self.truth(value, known) {
                        Some((t, attrs)) if t == deciding => return Some((deciding, attrs)),
                        Some((_, attrs)) => all.extend(attrs),
                        None => return None,
                    }
                }
                Some((!deciding, all))
            }
            Expr::BooleanLiteral(b) => Some((b.value, Vec::new())),
            Expr::NoneLiteral(_) => Some((false, Vec::new())),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::BytesLiteral(_) => {
                Some((true_literal(expr), Vec::new()))
            }
            _ => None,
        }
    }

    /// Adds to `known` the names a test requires to be true when it is `outcome`.
    fn assume(&self, test: &Expr, outcome: bool, known: &mut Vec<Known>) {
        match test {
            Expr::Name(name) if outcome => {
                let name = name.id.as_str();
                if !self.untracked.iter().any(|n| n == name)
                    && !known.iter().any(|k| k.name == name)
                {
                    known.push(Known {
                        name: name.to_string(),
                        firm: false,
                        class_attrs: Vec::new(),
                    });
                }
            }
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => {
                self.assume(&u.operand, !outcome, known)
            }
            Expr::BoolOp(b) if (b.op == ast::BoolOp::And) == outcome => {
                for value in &b.values {
                    self.assume(value, outcome, known);
                }
            }
            _ => {}
        }
    }

    /// `Some(class attributes read)` when `value` is surely a true object that nothing changes.
    fn true_value(&self, value: &Expr, known: &[Known]) -> Option<Vec<Name>> {
        match value {
            Expr::Name(name) => known
                .iter()
                .find(|k| k.firm && k.name == name.id.as_str())
                .map(|k| k.class_attrs.clone()),
            Expr::Tuple(t)
                if !t.elts.is_empty() && !t.elts.iter().any(|e| matches!(e, Expr::Starred(_))) =>
            {
                Some(Vec::new())
            }
            Expr::BooleanLiteral(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::BytesLiteral(_) => true_literal(value).then(Vec::new),
            // `self.A[0]`, `A` a tuple of true literals bound in the class.
            Expr::Subscript(sub) => {
                let Expr::Attribute(attribute) = &*sub.value else {
                    return None;
                };
                let Expr::Name(receiver) = &*attribute.value else {
                    return None;
                };
                (Some(receiver.id.as_str()) == self.self_name
                    && is_int(&sub.slice)
                    && self
                        .true_tuples
                        .iter()
                        .any(|n| n.as_str() == attribute.attr.as_str()))
                .then(|| vec![intern(attribute.attr.as_str())])
            }
            _ => None,
        }
    }
}

/// Whether a literal (`True`, a number, a string or bytes) is true.
fn true_literal(expr: &Expr) -> bool {
    match expr {
        Expr::BooleanLiteral(b) => b.value,
        Expr::NumberLiteral(n) => match &n.value {
            ast::Number::Int(i) => *i != ast::Int::ZERO,
            ast::Number::Float(f) => *f != 0.0,
            ast::Number::Complex { real, imag } => *real != 0.0 || *imag != 0.0,
        },
        Expr::StringLiteral(s) => !s.value.is_empty(),
        Expr::BytesLiteral(b) => !b.value.is_empty(),
        _ => false,
    }
}

/// An integer literal, negative ones included.
fn is_int(expr: &Expr) -> bool {
    match expr {
        Expr::NumberLiteral(n) => matches!(n.value, ast::Number::Int(_)),
        Expr::UnaryOp(u) if u.op == ast::UnaryOp::USub => is_int(&u.operand),
        _ => false,
    }
}

/// Whether `value` is a tuple display of true literals, and so true in every item.
pub(super) fn tuple_of_true_literals(value: &Expr) -> bool {
    matches!(value, Expr::Tuple(t) if !t.elts.is_empty() && t.elts.iter().all(|e| matches!(e, Expr::BooleanLiteral(_) | Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::BytesLiteral(_)) && true_literal(e)))
}

/// What two paths both know: the names known on both, by value only when by value on both.
fn meet(a: Vec<Known>, b: Vec<Known>) -> Vec<Known> {
    a.into_iter()
        .filter_map(|mut k| {
            let other = b.iter().find(|o| o.name == k.name)?;
            k.firm &= other.firm;
            for attr in &other.class_attrs {
                if !k.class_attrs.contains(attr) {
                    k.class_attrs.push(*attr);
                }
            }
            Some(k)
        })
        .collect()
}

/// `known` less what `stmt` (all of it, its blocks included) binds, and, of what is known by
/// test, what it uses other than as a test's operand, or all of it when it makes another call.
fn touched_by(stmt: &Stmt, mut known: Vec<Known>) -> Vec<Known> {
    if known.is_empty() {
        return known;
    }
    visit_bound(stmt, &mut |bound: &str| known.retain(|k| k.name != bound));
    if known.iter().any(|k| !k.firm) {
        let mut uses = Uses::default();
        uses.visit_stmt(stmt);
        drop_used(&mut known, &uses);
    }
    known
}

/// As [`touched_by`], for an expression evaluated (an `if` test).
fn touched_by_expr(expr: &Expr, mut known: Vec<Known>) -> Vec<Known> {
    if known.is_empty() {
        return known;
    }
    let mut bound = Vec::new();
    NamedTargets(&mut bound).visit_expr(expr);
    known.retain(|k| !bound.contains(&k.name));
    if known.iter().any(|k| !k.firm) {
        let mut uses = Uses::default();
        uses.test(expr);
        drop_used(&mut known, &uses);
    }
    known
}

fn drop_used(known: &mut Vec<Known>, uses: &Uses) {
    known.retain(|k| k.firm || (!uses.other_call && !uses.names.contains(&k.name)));
}

struct NamedTargets<'b>(&'b mut Vec<String>);

impl<'a> Visitor<'a> for NamedTargets<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Named(n) = expr
            && let Expr::Name(target) = &*n.target
        {
            self.0.push(target.id.to_string());
        }
        visitor::walk_expr(self, expr);
    }
}

/// The names a statement or expression uses other than as a test's operand or a reading call's
/// argument, and whether it makes any other call (or awaits, or yields).
#[derive(Default)]
struct Uses {
    names: Vec<String>,
    other_call: bool,
}

impl Uses {
    /// `expr` evaluated for its truth: names as operands of `not`, `and`, `or` and comparisons
    /// are only read.
    fn test(&mut self, expr: &Expr) {
        match expr {
            Expr::Name(_) => {}
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => self.test(&u.operand),
            Expr::BoolOp(b) => b.values.iter().for_each(|v| self.test(v)),
            Expr::Compare(c) => {
                for operand in std::iter::once(&*c.left).chain(c.comparators.iter()) {
                    if !matches!(operand, Expr::Name(_)) {
                        self.visit_expr(operand);
                    }
                }
            }
            other => self.visit_expr(other),
        }
    }
}

impl<'a> Visitor<'a> for Uses {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            // Defining runs nothing of the body.
            Stmt::FunctionDef(s) => {
                for decorator in &s.decorator_list {
                    self.visit_expr(&decorator.expression);
                }
                self.visit_parameters(&s.parameters);
            }
            Stmt::ClassDef(_) => self.other_call = true,
            Stmt::If(s) => {
                self.test(&s.test);
                self.visit_body(&s.body);
                for clause in &s.elif_else_clauses {
                    if let Some(test) = &clause.test {
                        self.test(test);
                    }
                    self.visit_body(&clause.body);
                }
            }
            Stmt::While(s) => {
                self.test(&s.test);
                self.visit_body(&s.body);
                self.visit_body(&s.orelse);
            }
            // `with` runs `__enter__` and `__exit__`; `del x[k]` and `x[k] = v` may run code of
            // the object's type.
            Stmt::With(_) => {
                self.other_call = true;
                visitor::walk_stmt(self, stmt);
            }
            _ => visitor::walk_stmt(self, stmt),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Name(name) => self.names.push(name.id.to_string()),
            Expr::Lambda(_) => {}
            Expr::Await(_) | Expr::Yield(_) | Expr::YieldFrom(_) => {
                self.other_call = true;
                visitor::walk_expr(self, expr);
            }
            Expr::Call(call) => {
                if reading_call(&call.func) && call.arguments.keywords.is_empty() {
                    for arg in call.arguments.args.iter() {
                        if !matches!(arg, Expr::Name(_)) {
                            self.visit_expr(arg);
                        }
                    }
                } else {
                    self.other_call = true;
                    visitor::walk_expr(self, expr);
                }
            }
            Expr::UnaryOp(u) if u.op == ast::UnaryOp::Not => self.test(&u.operand),
            Expr::BoolOp(_) | Expr::Compare(_) | Expr::If(_) => {
                // Operands of `and`/`or` may be the value itself; only in a test they are not.
                visitor::walk_expr(self, expr)
            }
            _ => visitor::walk_expr(self, expr),
        }
    }
}

/// A call that only reads its arguments: `os.path.join`, `len`, `str`.
fn reading_call(func: &Expr) -> bool {
    match func {
        Expr::Name(name) => knowledge::READING_BUILTINS.contains(&name.id.as_str()),
        Expr::Attribute(attribute) => {
            matches!(&*attribute.value, Expr::Attribute(path)
                if path.attr.as_str() == "path"
                    && matches!(&*path.value, Expr::Name(os) if os.id.as_str() == "os"))
        }
        _ => false,
    }
}

/// Adds to `out` the names a `global` or `nonlocal` statement in `stmt` names, nested scopes
/// included: other code may bind them.
fn declared_outside(stmt: &Stmt, out: &mut Vec<String>) {
    struct Declared<'b>(&'b mut Vec<String>);
    impl<'a> Visitor<'a> for Declared<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Global(s) => self.0.extend(s.names.iter().map(|n| n.to_string())),
                Stmt::Nonlocal(s) => self.0.extend(s.names.iter().map(|n| n.to_string())),
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }
    }
    Declared(out).visit_stmt(stmt);
}
