//! The bindings of module globals that `FileFacts::globals` does not list, and the augmented
//! assignments on a local that holds exactly a global (see [`UnlistedBindings`]): what SL201
//! must rule out before it takes `x = G; x |= v` as binding a new object to the local only.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Pattern, Stmt};

use crate::facts::{FuncIdx, Name, UnlistedBindings, intern};

use super::{Extractor, MAX_WALK_DEPTH, Scope, literal_text};

impl Extractor {
    /// Notes what `stmt` binds that the module-level bindings do not list: at module level,
    /// every binding but `name = value`; in a class body, attributes set on other objects; and
    /// anywhere, the names a `global` statement declares.
    pub(super) fn note_unlisted_bindings(&mut self, stmt: &Stmt) {
        let at_module = matches!(self.scopes.last(), Some(Scope::Module) | None);
        let in_class = matches!(self.scopes.last(), Some(Scope::Class(_)));
        let unlisted = &mut self.facts.unlisted_bindings;
        if let Stmt::Global(global) = stmt {
            unlisted
                .names
                .extend(global.names.iter().map(|n| intern(n.as_str())));
            return;
        }
        if !at_module && !in_class {
            return;
        }
        // Targets: at module level their names are bindings of the module; in a class body
        // only the attributes they set on other objects count.
        let mut targets: Vec<&Expr> = Vec::new();
        match stmt {
            Stmt::Assign(assign) => {
                for target in &assign.targets {
                    if !matches!(target, Expr::Name(_)) {
                        targets.push(target);
                    }
                }
            }
            Stmt::AnnAssign(assign) if !matches!(&*assign.target, Expr::Name(_)) => {
                targets.push(&assign.target);
            }
            Stmt::AugAssign(assign) => targets.push(&assign.target),
            Stmt::Delete(delete) => targets.extend(delete.targets.iter()),
            Stmt::For(for_stmt) => targets.push(&for_stmt.target),
            Stmt::With(with) => {
                targets.extend(with.items.iter().filter_map(|i| i.optional_vars.as_deref()));
            }
            _ => {}
        }
        for target in targets {
            target_names(target, at_module, unlisted, 0);
        }
        if !at_module {
            return;
        }
        match stmt {
            Stmt::FunctionDef(function) => unlisted.names.push(intern(function.name.as_str())),
            Stmt::ClassDef(class) => unlisted.names.push(intern(class.name.as_str())),
            Stmt::TypeAlias(alias) => {
                if let Expr::Name(name) = &*alias.name {
                    unlisted.names.push(intern(name.id.as_str()));
                }
            }
            Stmt::Import(import) => {
                for alias in &import.names {
                    let bound = match &alias.asname {
                        Some(asname) => asname.as_str(),
                        None => alias.name.as_str().split('.').next().unwrap_or_default(),
                    };
                    unlisted.names.push(intern(bound));
                }
            }
            Stmt::ImportFrom(import) => {
                for alias in &import.names {
                    unlisted.names.push(intern(
                        alias.asname.as_ref().unwrap_or(&alias.name).as_str(),
                    ));
                }
            }
            Stmt::Try(try_stmt) => {
                for handler in &try_stmt.handlers {
                    let ast::ExceptHandler::ExceptHandler(handler) = handler;
                    if let Some(name) = &handler.name {
                        unlisted.names.push(intern(name.as_str()));
                    }
                }
            }
            Stmt::Match(match_stmt) => {
                for case in &match_stmt.cases {
                    pattern_names(&case.pattern, &mut unlisted.names, 0);
                }
            }
            _ => {}
        }
    }

    /// Notes what an expression may bind or set by name: a walrus outside functions binds a
    /// module global; `setattr`, `vars`, `globals`, `exec`, `eval` and `__dict__` may set
    /// globals or module attributes.
    pub(super) fn note_unlisted_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Named(named) => {
                if self.function_scope().is_none()
                    && let Expr::Name(name) = &*named.target
                {
                    self.facts
                        .unlisted_bindings
                        .names
                        .push(intern(name.id.as_str()));
                }
            }
            Expr::Attribute(attribute) if attribute.attr.as_str() == "__dict__" => {
                if !self.is_function_local(&attribute.value) {
                    self.facts.unlisted_bindings.any_by_name = true;
                }
            }
            Expr::Call(call) => {
                let Expr::Name(callee) = &*call.func else {
                    return;
                };
                let args = &call.arguments.args;
                match callee.id.as_str() {
                    "globals" | "exec" | "eval" => self.facts.unlisted_bindings.own_by_name = true,
                    "vars" | "locals" => match args.first() {
                        Some(object) if !self.is_function_local(object) => {
                            self.facts.unlisted_bindings.any_by_name = true;
                        }
                        // Outside functions `vars()` and `locals()` are the module's globals.
                        None if self.function_scope().is_none() => {
                            self.facts.unlisted_bindings.own_by_name = true;
                        }
                        _ => {}
                    },
                    "setattr" => match (args.first(), args.get(1)) {
                        (_, Some(Expr::StringLiteral(literal))) => self
                            .facts
                            .unlisted_bindings
                            .attributes
                            .push(intern(literal_text(&literal.value))),
                        (Some(object), _) if !self.is_function_local(object) => {
                            self.facts.unlisted_bindings.any_by_name = true;
                        }
                        // A call without its arguments written out (`setattr(*args)`).
                        (None, _) => self.facts.unlisted_bindings.any_by_name = true,
                        _ => {}
                    },
                    _ => {}
                }
            }
            _ => {}
        }
    }

    /// Whether `expr` is a name (or an attribute or item of one) bound in the function being
    /// walked: a parameter, `self`, a local. A module is taken to be reached through a global
    /// name only (a module held in a local, `m = sys.modules[name]`, is not followed).
    fn is_function_local(&self, expr: &Expr) -> bool {
        let mut expr = expr;
        loop {
            match expr {
                Expr::Attribute(attribute) => expr = &attribute.value,
                Expr::Subscript(subscript) => expr = &subscript.value,
                _ => break,
            }
        }
        let Expr::Name(name) = expr else {
            return false;
        };
        self.function_scope().is_some() && !self.is_global_name(name.id.as_str())
    }

    /// The augmented assignments on a local alias of a global (`x |= v` after `x = G`) that the
    /// walk of `function` met, kept when `x` holds exactly `G` there (see
    /// [`UnlistedBindings::exact_alias_ops`]).
    pub(super) fn record_exact_alias_ops(
        &mut self,
        function: &ast::StmtFunctionDef,
        idx: FuncIdx,
        defines: bool,
        candidates: Vec<(Name, u32)>,
    ) {
        if defines {
            return;
        }
        for (name, start) in candidates {
            let is_param = self.facts.functions[idx as usize]
                .params
                .iter()
                .any(|p| p.name == name);
            if is_param {
                continue;
            }
            let mut count = Bindings {
                name: name.as_str(),
                stores: 0,
                augmented: 0,
                unknown: false,
                depth: 0,
            };
            count.visit_body(&function.body);
            if !count.unknown && count.stores == count.augmented + 1 {
                self.facts.unlisted_bindings.exact_alias_ops.push(start);
            }
        }
    }
}

/// Sorts and de-duplicates the lists of `unlisted` once the file's walk is done.
pub(super) fn finish(unlisted: &mut UnlistedBindings) {
    for list in [&mut unlisted.names, &mut unlisted.attributes] {
        list.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        list.dedup();
    }
    unlisted.exact_alias_ops.sort_unstable();
    unlisted.exact_alias_ops.dedup();
}

/// The names a target binds (at module level) and the attributes it sets or deletes.
fn target_names(target: &Expr, at_module: bool, unlisted: &mut UnlistedBindings, depth: u32) {
    if depth > MAX_WALK_DEPTH {
        unlisted.any_by_name = true;
        return;
    }
    match target {
        Expr::Name(name) if at_module => unlisted.names.push(intern(name.id.as_str())),
        Expr::Attribute(attribute) => unlisted.attributes.push(intern(attribute.attr.as_str())),
        Expr::Tuple(tuple) => tuple
            .elts
            .iter()
            .for_each(|e| target_names(e, at_module, unlisted, depth + 1)),
        Expr::List(list) => list
            .elts
            .iter()
            .for_each(|e| target_names(e, at_module, unlisted, depth + 1)),
        Expr::Starred(starred) => target_names(&starred.value, at_module, unlisted, depth + 1),
        // `globals()["NAME"] = v`, `vars(mod)[k] = v`, `mod.__dict__[k] = v` outside functions,
        // whose targets the walk does not visit as expressions.
        Expr::Subscript(subscript) => match &*subscript.value {
            Expr::Call(call) => match &*call.func {
                Expr::Name(callee) if matches!(callee.id.as_str(), "globals" | "locals") => {
                    unlisted.own_by_name = true;
                }
                Expr::Name(callee) if callee.id.as_str() == "vars" => {
                    if call.arguments.args.is_empty() {
                        unlisted.own_by_name = true;
                    } else {
                        unlisted.any_by_name = true;
                    }
                }
                _ => {}
            },
            Expr::Attribute(attribute) if attribute.attr.as_str() == "__dict__" => {
                unlisted.any_by_name = true;
            }
            _ => {}
        },
        _ => {}
    }
}

/// The names a `match` pattern captures.
fn pattern_names(pattern: &Pattern, out: &mut Vec<Name>, depth: u32) {
    if depth > MAX_WALK_DEPTH {
        out.push(intern("*"));
        return;
    }
    match pattern {
        Pattern::MatchAs(p) => {
            if let Some(name) = &p.name {
                out.push(intern(name.as_str()));
            }
            if let Some(inner) = &p.pattern {
                pattern_names(inner, out, depth + 1);
            }
        }
        Pattern::MatchStar(p) => {
            if let Some(name) = &p.name {
                out.push(intern(name.as_str()));
            }
        }
        Pattern::MatchMapping(p) => {
            if let Some(rest) = &p.rest {
                out.push(intern(rest.as_str()));
            }
            p.patterns
                .iter()
                .for_each(|p| pattern_names(p, out, depth + 1));
        }
        Pattern::MatchSequence(p) => p
            .patterns
            .iter()
            .for_each(|p| pattern_names(p, out, depth + 1)),
        Pattern::MatchClass(p) => {
            p.arguments
                .patterns
                .iter()
                .for_each(|p| pattern_names(p, out, depth + 1));
            p.arguments
                .keywords
                .iter()
                .for_each(|k| pattern_names(&k.pattern, out, depth + 1));
        }
        Pattern::MatchOr(p) => p
            .patterns
            .iter()
            .for_each(|p| pattern_names(p, out, depth + 1)),
        Pattern::MatchValue(_) | Pattern::MatchSingleton(_) => {}
    }
}

/// Counts the bindings of one local in a function body (nested functions and classes are not
/// there: the caller refuses a body that defines any): stores and deletions of the name, of
/// which how many are augmented assignments; anything else that binds it (an import, `except
/// ... as`, a `match` capture, a `global` or `nonlocal` declaration) or a body too deep to
/// walk makes the count unknown.
struct Bindings<'n> {
    name: &'n str,
    stores: u32,
    augmented: u32,
    unknown: bool,
    depth: u32,
}

impl Bindings<'_> {
    fn visit_body(&mut self, body: &[Stmt]) {
        for stmt in body {
            self.visit_stmt(stmt);
        }
    }
}

impl<'a> Visitor<'a> for Bindings<'_> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.unknown {
            return;
        }
        if self.depth > MAX_WALK_DEPTH {
            self.unknown = true;
            return;
        }
        match stmt {
            Stmt::AugAssign(assign) if matches!(&*assign.target, Expr::Name(n) if n.id.as_str() == self.name) =>
            {
                self.augmented += 1;
            }
            Stmt::Import(import) => {
                if import.names.iter().any(|a| {
                    a.asname.as_ref().map_or_else(
                        || a.name.as_str().split('.').next() == Some(self.name),
                        |n| n.as_str() == self.name,
                    )
                }) {
                    self.unknown = true;
                }
            }
            Stmt::ImportFrom(import) => {
                if import
                    .names
                    .iter()
                    .any(|a| a.asname.as_ref().unwrap_or(&a.name).as_str() == self.name)
                {
                    self.unknown = true;
                }
            }
            Stmt::Global(ast::StmtGlobal { names, .. })
            | Stmt::Nonlocal(ast::StmtNonlocal { names, .. }) => {
                if names.iter().any(|n| n.as_str() == self.name) {
                    self.unknown = true;
                }
            }
            Stmt::Match(_) => self.unknown = true,
            _ => {}
        }
        self.depth += 1;
        visitor::walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_except_handler(&mut self, handler: &'a ast::ExceptHandler) {
        let ast::ExceptHandler::ExceptHandler(h) = handler;
        if h.name.as_ref().is_some_and(|n| n.as_str() == self.name) {
            self.unknown = true;
        }
        visitor::walk_except_handler(self, handler);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.unknown {
            return;
        }
        if self.depth > MAX_WALK_DEPTH {
            self.unknown = true;
            return;
        }
        if let Expr::Name(name) = expr
            && name.id.as_str() == self.name
            && name.ctx != ast::ExprContext::Load
        {
            self.stores += 1;
        }
        self.depth += 1;
        visitor::walk_expr(self, expr);
        self.depth -= 1;
    }
}
