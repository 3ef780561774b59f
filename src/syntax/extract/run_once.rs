//! Set-ups that run once: a function that returns at once when a module global is already set
//! (`if _REGISTRY: return`, `if _CONFIG is not None: return`) and that leaves it set whenever it
//! completes. Every change it makes of the global comes after that return, so once one run has
//! completed, later runs change nothing: a caller that calls it before reading the global reads
//! the value it will keep (SL404 takes a cached function that does so as reading no stale value).
//! A set-up whose fill may add nothing (a loop that adds only what a scan finds) is one too when
//! it takes no arguments: every run adds what the first did, as long as what it reads does not
//! change at run time, which the rule decides from the names it records ([`RunOnceSetup::fill_inputs`]).

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, ExprContext, Stmt};
use ruff_text_size::Ranged;

use thin_vec::ThinVec;

use crate::facts::{FileFacts, Name, RunOnceSetup, SetUpCall, intern};

/// The run-once set-up `body` (a function's) is, with the global it guards; `takes_arguments`
/// when the function has parameters, whose values may differ from call to call.
pub(super) fn run_once_setup(
    function: u32,
    body: &[Stmt],
    takes_arguments: bool,
) -> Option<RunOnceSetup> {
    let mut rest = body;
    // A docstring and `global` statements run before the test and change nothing.
    while let Some((first, tail)) = rest.split_first() {
        match first {
            Stmt::Expr(e) if matches!(&*e.value, Expr::StringLiteral(_)) => rest = tail,
            Stmt::Global(_) => rest = tail,
            _ => break,
        }
    }
    let (Stmt::If(guard), after) = rest.split_first()? else {
        return None;
    };
    if !guard.elif_else_clauses.is_empty()
        || !matches!(guard.body.as_slice(), [Stmt::Return(r)] if r.value.as_deref().is_none_or(Expr::is_none_literal_expr))
    {
        return None;
    }
    let (global, set_when) = match &*guard.test {
        Expr::Name(n) => (n.id.as_str(), SetWhen::True),
        Expr::Compare(c)
            if matches!(&*c.ops, [ast::CmpOp::IsNot])
                && c.comparators[0].is_none_literal_expr()
                && matches!(&*c.left, Expr::Name(_)) =>
        {
            let Expr::Name(n) = &*c.left else {
                return None;
            };
            (n.id.as_str(), SetWhen::NotNone)
        }
        _ => return None,
    };
    if unsets(after, global, set_when) {
        return None;
    }
    let fill_inputs = if leaves_set(after, global, set_when) {
        None
    } else if set_when == SetWhen::True && !takes_arguments && fills(after, global) {
        Some(free_reads(body, after, global))
    } else {
        return None;
    };
    Some(RunOnceSetup {
        function,
        global: intern(global),
        after: guard.range().end().to_u32(),
        fill_inputs,
    })
}

/// Whether some statement of `body`, at any depth (nested functions aside), puts an item into
/// `global` (`G[k] = v`, `G.append(x)`): a run that gets that far leaves it non-empty.
fn fills(body: &[Stmt], global: &str) -> bool {
    struct Fills<'g>(&'g str, bool);
    impl<'a> Visitor<'a> for Fills<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ if sets(stmt, self.0, SetWhen::True) => self.1 = true,
                _ => visitor::walk_stmt(self, stmt),
            }
        }
    }
    let mut walk = Fills(global, false);
    walk.visit_body(body);
    walk.1
}

/// The names `after` (the set-up's statements past its guard) reads that the function does not
/// bind itself: what its runs may learn from outside. `global` (the run's own filling), a name
/// read only as the container an item is stored into (`OTHER[k] = v`: written, not read), and
/// the function's locals are left out; a name declared `global` is not a local.
fn free_reads(function_body: &[Stmt], after: &[Stmt], global: &str) -> ThinVec<Name> {
    #[derive(Default)]
    struct Names<'a> {
        bound: Vec<&'a str>,
        declared_global: Vec<&'a str>,
        read: Vec<&'a str>,
    }
    impl<'a> Visitor<'a> for Names<'a> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Global(g) => self
                    .declared_global
                    .extend(g.names.iter().map(|n| n.as_str())),
                Stmt::FunctionDef(f) => self.bound.push(f.name.as_str()),
                Stmt::ClassDef(c) => self.bound.push(c.name.as_str()),
                Stmt::Import(i) => self.bound.extend(i.names.iter().map(|a| {
                    a.asname
                        .as_ref()
                        .map_or(a.name.as_str().split('.').next().unwrap_or(""), |n| {
                            n.as_str()
                        })
                })),
                Stmt::ImportFrom(i) => self.bound.extend(
                    i.names
                        .iter()
                        .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str()),
                ),
                Stmt::Try(t) => {
                    for handler in &t.handlers {
                        let ast::ExceptHandler::ExceptHandler(h) = handler;
                        if let Some(name) = &h.name {
                            self.bound.push(name.as_str());
                        }
                    }
                }
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) if n.ctx == ExprContext::Load => self.read.push(n.id.as_str()),
                Expr::Name(n) => self.bound.push(n.id.as_str()),
                // The container an item is stored into or deleted from is written, not read.
                Expr::Subscript(s)
                    if s.ctx != ExprContext::Load && matches!(&*s.value, Expr::Name(_)) =>
                {
                    self.visit_expr(&s.slice);
                    return;
                }
                _ => {}
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut whole = Names::default();
    whole.visit_body(function_body);
    let mut after_names = Names::default();
    after_names.visit_body(after);
    let local = |name: &str| whole.bound.contains(&name) && !whole.declared_global.contains(&name);
    let mut read: Vec<&str> = after_names
        .read
        .into_iter()
        .filter(|name| *name != global && !local(name))
        .collect();
    read.sort_unstable();
    read.dedup();
    read.into_iter().map(intern).collect()
}

#[derive(Clone, Copy, PartialEq)]
enum SetWhen {
    /// `if G: return`: set once it holds something true (a non-empty container).
    True,
    /// `if G is not None: return`.
    NotNone,
}

/// Whether a run of `body` that completes always leaves `global` set: a statement among its own
/// (not under a test, after no `return`) that sets it, or, for a truth test, a `for` over a
/// non-empty literal (with no `break` or `continue`) whose own statements do.
fn leaves_set(body: &[Stmt], global: &str, set_when: SetWhen) -> bool {
    for stmt in body {
        if sets(stmt, global, set_when) {
            return true;
        }
        if set_when == SetWhen::True
            && let Stmt::For(for_stmt) = stmt
            && for_stmt.orelse.is_empty()
            && (matches!(&*for_stmt.iter, Expr::Tuple(t) if !t.elts.is_empty())
                || matches!(&*for_stmt.iter, Expr::List(l) if !l.elts.is_empty()))
            && !exits_early(&for_stmt.body)
            && for_stmt.body.iter().any(|s| sets(s, global, set_when))
        {
            return true;
        }
        if exits_early(std::slice::from_ref(stmt)) {
            return false;
        }
    }
    false
}

/// Whether `stmt` itself sets `global`: binds it to something that is not `None` (to a
/// non-empty display for a truth test), or, for a truth test, stores an item into it or adds
/// one (`G[k] = v`, `G.append(x)`).
fn sets(stmt: &Stmt, global: &str, set_when: SetWhen) -> bool {
    let is_global = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == global);
    match stmt {
        Stmt::Assign(assign) if assign.targets.len() == 1 => match &assign.targets[0] {
            Expr::Name(n) if n.id.as_str() == global => match set_when {
                SetWhen::NotNone => !assign.value.is_none_literal_expr(),
                SetWhen::True => non_empty_display(&assign.value),
            },
            Expr::Subscript(s) => set_when == SetWhen::True && is_global(&s.value),
            _ => false,
        },
        Stmt::Expr(e) if set_when == SetWhen::True => match &*e.value {
            Expr::Call(call) => match &*call.func {
                Expr::Attribute(a) => {
                    is_global(&a.value)
                        && matches!(a.attr.as_str(), "append" | "add" | "setdefault" | "insert")
                }
                _ => false,
            },
            _ => false,
        },
        _ => false,
    }
}

fn non_empty_display(value: &Expr) -> bool {
    match value {
        Expr::Dict(d) => !d.items.is_empty(),
        Expr::List(l) => !l.elts.is_empty(),
        Expr::Tuple(t) => !t.elts.is_empty(),
        Expr::Set(s) => !s.elts.is_empty(),
        _ => false,
    }
}

/// Whether a `return`, `break` or `continue` appears among `body` (nested functions aside): a
/// run may leave it before it sets the global.
fn exits_early(body: &[Stmt]) -> bool {
    struct Exits(bool);
    impl<'a> Visitor<'a> for Exits {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Return(_) | Stmt::Break(_) | Stmt::Continue(_) => self.0 = true,
                Stmt::FunctionDef(_) | Stmt::ClassDef(_) => {}
                _ => visitor::walk_stmt(self, stmt),
            }
        }
    }
    let mut exits = Exits(false);
    exits.visit_body(body);
    exits.0
}

/// Whether anything in `body` may unset `global` again: `del`, a rebind to `None` or to what is
/// not a non-empty display (truth test), taking entries out, or a read of the local namespace.
fn unsets(body: &[Stmt], global: &str, set_when: SetWhen) -> bool {
    struct Unsets<'g> {
        global: &'g str,
        set_when: SetWhen,
        found: bool,
    }
    impl<'a> Visitor<'a> for Unsets<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            match stmt {
                Stmt::Assign(assign) => {
                    for target in &assign.targets {
                        if matches!(target, Expr::Name(n) if n.id.as_str() == self.global) {
                            self.found |= match self.set_when {
                                SetWhen::NotNone => assign.value.is_none_literal_expr(),
                                SetWhen::True => !non_empty_display(&assign.value),
                            };
                        }
                    }
                    visitor::walk_stmt(self, stmt);
                }
                _ => visitor::walk_stmt(self, stmt),
            }
        }
        fn visit_expr(&mut self, expr: &'a Expr) {
            match expr {
                Expr::Name(n) => {
                    self.found |= (n.id.as_str() == self.global && n.ctx == ExprContext::Del)
                        || matches!(
                            n.id.as_str(),
                            "globals" | "vars" | "locals" | "eval" | "exec"
                        );
                }
                Expr::Subscript(s)
                    if s.ctx == ExprContext::Del
                        && matches!(&*s.value, Expr::Name(n) if n.id.as_str() == self.global) =>
                {
                    self.found = true;
                }
                Expr::Call(call)
                    if matches!(&*call.func, Expr::Attribute(a)
                        if matches!(&*a.value, Expr::Name(n) if n.id.as_str() == self.global)
                            && matches!(a.attr.as_str(), "pop" | "popitem" | "clear" | "remove" | "discard")) =>
                {
                    self.found = true;
                }
                // Other rebinds (`for`, `with`, `:=`, augmented) are not proved to keep it set.
                Expr::Named(named) if matches!(&*named.target, Expr::Name(n) if n.id.as_str() == self.global) =>
                {
                    self.found = true;
                }
                _ => {}
            }
            visitor::walk_expr(self, expr);
        }
    }
    let mut walk = Unsets {
        global,
        set_when,
        found: false,
    };
    walk.visit_body(body);
    walk.found || rebinds_otherwise(body, global)
}

/// Whether `body` binds `global` other than by `global = value` or `global[k] = v`: a `for`,
/// `with` or `except` target, an augmented assignment, an import.
fn rebinds_otherwise(body: &[Stmt], global: &str) -> bool {
    struct Binds<'g>(&'g str, bool);
    impl<'a> Visitor<'a> for Binds<'_> {
        fn visit_stmt(&mut self, stmt: &'a Stmt) {
            let target_is = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == self.0);
            match stmt {
                Stmt::For(f) if target_is(&f.target) => self.1 = true,
                Stmt::AugAssign(a) if target_is(&a.target) => self.1 = true,
                Stmt::With(w)
                    if w.items
                        .iter()
                        .any(|i| i.optional_vars.as_deref().is_some_and(target_is)) =>
                {
                    self.1 = true
                }
                Stmt::Import(_) | Stmt::ImportFrom(_) => self.1 = true,
                Stmt::Try(t)
                    if t.handlers.iter().any(|h| {
                        let ast::ExceptHandler::ExceptHandler(h) = h;
                        h.name.as_ref().is_some_and(|n| n.as_str() == self.0)
                    }) =>
                {
                    self.1 = true
                }
                _ => {}
            }
            visitor::walk_stmt(self, stmt);
        }
    }
    let mut walk = Binds(global, false);
    walk.visit_body(body);
    walk.1
}

/// The calls a cached function makes as statements of its own body (`_discover()`), each with
/// the names read before it there (in earlier statements and in the call): a read of the global
/// the callee sets up that is not among them comes after the call on every path. The names of
/// an earlier `if` without `else` whose body ends in `return` (a path that returns before the
/// call, `if backend == DIFFUSERS: return _plain_info(path)`) come apart, with each call: what
/// that path caches was read before the set-up ran, and [`settle_early_returns`] decides whether
/// it can be the set-up's global. The `if`'s test runs on every path and stays with the rest.
pub(super) fn set_up_calls(function: u32, body: &[Stmt]) -> Vec<(SetUpCall, Vec<Name>)> {
    let mut calls = Vec::new();
    let mut names: Names<'_> = Names(Vec::new());
    let mut early: Names<'_> = Names(Vec::new());
    for stmt in body {
        if let Stmt::Expr(e) = stmt
            && let Expr::Call(call) = &*e.value
            && let Expr::Name(callee) = &*call.func
        {
            let mut before = Names(names.0.clone());
            before.visit_expr(&e.value);
            before.0.sort_unstable();
            before.0.dedup();
            let mut on_early_returns = early.0.clone();
            on_early_returns.sort_unstable();
            on_early_returns.dedup();
            calls.push((
                SetUpCall {
                    function,
                    callee: intern(callee.id.as_str()),
                    start: call.range().start().to_u32(),
                    names_before: before.0.into_iter().map(intern).collect(),
                },
                on_early_returns.into_iter().map(intern).collect(),
            ));
        }
        match stmt {
            Stmt::If(branch)
                if branch.elif_else_clauses.is_empty()
                    && matches!(branch.body.last(), Some(Stmt::Return(_))) =>
            {
                names.visit_expr(&branch.test);
                early.visit_body(&branch.body);
            }
            _ => names.visit_stmt(stmt),
        }
    }
    calls
}

/// Settles the names cached functions read only on paths that return before a set-up call
/// (`early`, by the call's index in `facts.set_up_calls`, from [`set_up_calls`]): they are left
/// out of the call's `names_before` when the set-up is a run-once set-up of this module and
/// neither they nor this module's functions and classes they name (followed through what
/// those name in turn) name its global, so what such a path caches cannot come from it; else
/// they join `names_before`, to be judged like the rest. Functions of other modules are not
/// followed: one reads this module's global only by importing this module back.
pub(super) fn settle_early_returns(
    module: &[Stmt],
    facts: &mut FileFacts,
    early: Vec<(usize, Vec<Name>)>,
) {
    let definitions: Vec<(&str, &Stmt)> = module
        .iter()
        .filter_map(|stmt| match stmt {
            Stmt::FunctionDef(f) => Some((f.name.as_str(), stmt)),
            Stmt::ClassDef(c) => Some((c.name.as_str(), stmt)),
            _ => None,
        })
        .collect();
    for (index, names) in early {
        let call = &facts.set_up_calls[index];
        let guarded = definitions
            .iter()
            .rev()
            .find(|(name, _)| *name == call.callee.as_str())
            .and_then(|(_, stmt)| match stmt {
                Stmt::FunctionDef(f) => facts
                    .run_once_setups
                    .iter()
                    .find(|s| {
                        facts.functions[s.function as usize].span.start
                            == f.name.range().start().to_u32()
                    })
                    .map(|s| s.global),
                _ => None,
            });
        let keep_apart =
            guarded.is_some_and(|global| !names_reach(&names, &definitions, global.as_str()));
        if !keep_apart {
            let call = &mut facts.set_up_calls[index];
            let mut all: Vec<Name> = call.names_before.drain(..).chain(names).collect();
            all.sort_unstable();
            all.dedup();
            call.names_before = all.into_iter().collect();
        }
    }
}

/// Whether `names`, or the module-level functions and classes of `definitions` they name,
/// followed through the names their bodies use (at most [`MAX_FOLLOWED`] definitions), name
/// `global` or read the namespace (`globals()`, `eval`).
fn names_reach(names: &[Name], definitions: &[(&str, &Stmt)], global: &str) -> bool {
    const MAX_FOLLOWED: usize = 64;
    let names_it = |name: &str| {
        name == global || matches!(name, "globals" | "vars" | "locals" | "eval" | "exec")
    };
    let mut pending: Vec<&str> = names.iter().map(Name::as_str).collect();
    let mut followed: Vec<&str> = Vec::new();
    while let Some(name) = pending.pop() {
        if names_it(name) {
            return true;
        }
        if followed.contains(&name) {
            continue;
        }
        // Every definition of the name: a later `def` may rebind it.
        let mut found = false;
        for (_, stmt) in definitions.iter().filter(|(n, _)| *n == name) {
            found = true;
            let mut used = Names(Vec::new());
            used.visit_stmt(stmt);
            pending.extend(used.0);
        }
        if found {
            followed.push(name);
            if followed.len() > MAX_FOLLOWED {
                return true;
            }
        }
    }
    false
}

/// Every name that `visit_*` passes over (imported names included).
struct Names<'a>(Vec<&'a str>);

impl<'a> Visitor<'a> for Names<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Name(n) = expr {
            self.0.push(n.id.as_str());
        }
        visitor::walk_expr(self, expr);
    }
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(i) => self.0.extend(i.names.iter().map(|a| {
                a.asname
                    .as_ref()
                    .map_or(a.name.as_str().split('.').next().unwrap_or(""), |n| {
                        n.as_str()
                    })
            })),
            Stmt::ImportFrom(i) => self.0.extend(
                i.names
                    .iter()
                    .map(|a| a.asname.as_ref().unwrap_or(&a.name).as_str()),
            ),
            _ => {}
        }
        visitor::walk_stmt(self, stmt);
    }
}
