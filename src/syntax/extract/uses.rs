//! The part of the walk that follows objects rather than names: what functions do with the
//! objects their parameter defaults create, changes made to call results, what cached functions
//! return and read, and `default=` keywords of module- and class-level calls.
//!
//! Kept apart from the main walk so that each fact stays small: parameter uses are recorded only
//! for parameters whose default is not a literal, cache facts only in functions decorated like
//! `lru_cache`.

use ruff_python_ast::{self as ast, Expr};
use ruff_text_size::{Ranged, TextRange};

use crate::facts::{
    AccessPath, Argument, BindingCall, ByText, CachedReturn, CallReceiver, CallResultMutation,
    FalseArgument, FuncIdx, GlobalRebind, ImportTarget, KeywordDefault, MutationKind, Param,
    ParamUse, ParamUseKind, Root, Span, Value, intern,
};
use crate::knowledge;
use crate::syntax::literal_text;

use super::{Extractor, LocalAlias, Scope, constructor_name, dotted_name, span};

/// A parameter with a non-literal default that an expression names: its function, its index,
/// and the local alias it was reached through.
struct DefaultedParam {
    function: FuncIdx,
    param: u32,
    alias: Option<Span>,
}

impl Extractor {
    /// Whether a decorator as written may be `lru_cache`/`cache`: its name is one, or it is
    /// imported under another name from one. The link confirms it.
    pub(super) fn may_be_cache_decorator(&self, name: &str) -> bool {
        knowledge::is_cache_decorator_name(name)
            || self.facts.imports.iter().any(|import| {
                import.binding == name
                    && matches!(&import.target, ImportTarget::Member { name, .. }
                        if knowledge::is_cache_decorator_name(name))
            })
    }

    /// The function and index of the parameter `name` denotes here, and whether its default is
    /// something other than a literal (a display, a call, a name).
    fn parameter_named(&self, name: &str) -> Option<(FuncIdx, u32, bool)> {
        for scope in self.scopes.iter().rev() {
            match scope {
                Scope::Function(f) if f.locals.contains(name) => {
                    let params = &self.facts.functions[f.idx as usize].params;
                    let index = params.iter().position(|p| p.name == name)?;
                    let defaulted = has_shared_default(&params[index]);
                    return Some((f.idx, index as u32, defaulted));
                }
                Scope::Module => return None,
                _ => {}
            }
        }
        None
    }

    /// Whether a parameter of the current function or of an enclosing one has a default other
    /// than a literal: asked first, because the question below is asked of every argument.
    fn defaulted_params_in_scope(&self) -> bool {
        self.function_scope().is_some_and(|f| f.defaulted_params)
    }

    fn defaulted_param(&self, expr: &Expr) -> Option<DefaultedParam> {
        let Expr::Name(name) = expr else {
            return None;
        };
        if !self.defaulted_params_in_scope() {
            return None;
        }
        let id = name.id.as_str();
        let (target, alias) = match self.function_scope().and_then(|f| f.aliases.get_text(id)) {
            Some(alias) if alias.path.attrs.is_empty() && !alias.nested => match &alias.path.root {
                Root::Local(param) => (param.as_str(), Some(alias.span)),
                _ => return None,
            },
            Some(_) => return None,
            None => (id, None),
        };
        let (function, param, defaulted) = self.parameter_named(target)?;
        defaulted.then_some(DefaultedParam {
            function,
            param,
            alias,
        })
    }

    /// Whether `path` is a parameter with a non-literal default itself (not a part of it).
    pub(super) fn is_defaulted_param(&self, path: &AccessPath) -> bool {
        match &path.root {
            Root::Local(name) if path.attrs.is_empty() && self.defaulted_params_in_scope() => {
                self.parameter_named(name).is_some_and(|(_, _, d)| d)
            }
            _ => false,
        }
    }

    fn push_param_use(&mut self, used: DefaultedParam, kind: ParamUseKind, range: TextRange) {
        self.facts.param_uses.push(ParamUse {
            function: used.function,
            param: used.param,
            kind,
            span: span(range),
            alias: used.alias,
        });
    }

    /// Called after `mutations[index]` was recorded: notes it as a change of a defaulted
    /// parameter when it is one.
    pub(super) fn note_param_mutation(&mut self, index: u32) {
        let mutation = &self.facts.mutations[index as usize];
        let Root::Local(name) = &mutation.target.root else {
            return;
        };
        if let Some((function, param, true)) = self.parameter_named(name) {
            let (span, alias) = (mutation.span, mutation.alias);
            self.facts.param_uses.push(ParamUse {
                function,
                param,
                kind: ParamUseKind::Mutated(index),
                span,
                alias,
            });
        }
    }

    /// `y = p` for a defaulted parameter `p`: `y` is the default object too.
    pub(super) fn param_alias(&self, name: &str, value: &Expr) -> Option<LocalAlias> {
        let Expr::Name(source) = value else {
            return None;
        };
        if source.id.as_str() == name {
            return None;
        }
        let used = self.defaulted_param(value)?;
        let param = &self.facts.functions[used.function as usize].params[used.param as usize];
        Some(LocalAlias {
            path: AccessPath::new(Root::Local(param.name)),
            nested: false,
            element: false,
            direct: false,
            span: used.alias.unwrap_or(span(value.range())),
            bound_at: value.range().start().to_u32(),
        })
    }

    /// `name = value` (or a `for`/`with` target) inside a function: a parameter rebound, a global
    /// rebound, a cached function's local.
    pub(super) fn record_rebind(&mut self, node: &ast::ExprName, value: Option<&Expr>) {
        let Some(function) = self.current_function() else {
            return;
        };
        let (name, target) = (node.id.as_str(), node.range);
        if self.name_node_here(node).0 == CallReceiver::Name {
            self.facts.global_rebinds.push(GlobalRebind {
                function,
                name: intern(name),
                span: span(target),
            });
            if let Some(value) = value
                && let Some(used) = self.defaulted_param(value)
            {
                self.push_param_use(used, ParamUseKind::Stored, value.range());
            }
            return;
        }
        // A name of this function's own (its locals are asked once here, not again by each
        // question below): only then can it be one of its parameters, and only otherwise a
        // closure's cell.
        let own = self
            .function_scope()
            .is_some_and(|scope| scope.locals.contains(name));
        if !own {
            self.record_closure_rebind(function, name, value, target);
        }
        if own
            && let Some(index) = self.facts.functions[function as usize]
                .params
                .iter()
                .position(|p| p.name == name)
            && index < 64
            && let Some(scope) = self.function_scope_mut()
            && scope.rebound_params & (1 << index) == 0
        {
            scope.rebound_params |= 1 << index;
            if self.was_tested(name) {
                self.facts.tested_param_rebinds.push(span(target).start);
            }
            self.facts.param_uses.push(ParamUse {
                function,
                param: index as u32,
                kind: ParamUseKind::Rebound,
                span: span(target),
                alias: None,
            });
        }
        let bound = value.map_or(Value::Other, |v| self.classify(v));
        if let Some(scope) = self.function_scope_mut()
            && let Some(locals) = &mut scope.cached_locals
        {
            locals.insert(intern(name), bound);
        }
    }

    /// `container[k] = value`: a defaulted parameter stored where it outlives the call.
    /// (`self.x = value` is SL104's: an alias that matters only when `self.x` is changed.)
    pub(super) fn record_store(&mut self, container: &Expr, value: &Expr) {
        let Some(used) = self.defaulted_param(value) else {
            return;
        };
        if self.outlives_call(container) {
            self.push_param_use(used, ParamUseKind::Stored, value.range());
        }
    }

    /// Whether an object reached by `expr` lives beyond the current call: it hangs off `self`,
    /// the class, a global or a parameter.
    fn outlives_call(&self, expr: &Expr) -> bool {
        let Some(resolved) = self.resolve(expr, true) else {
            return false;
        };
        match &resolved.path.root {
            Root::SelfParam | Root::Class | Root::Global(_) => true,
            Root::Local(name) => self.parameter_named(name).is_some(),
        }
    }

    /// `return value` / `yield value`.
    pub(super) fn record_returned(
        &mut self,
        value: Option<&Expr>,
        range: TextRange,
        yielded: bool,
    ) {
        let (Some(function), Some(value)) = (self.current_function(), value) else {
            return;
        };
        if !yielded
            && let Some(Scope::Function(scope)) = self.scopes.last()
            && let Some(locals) = &scope.cached_locals
        {
            let returned = match value {
                Expr::Name(name) if let Some(local) = locals.get_text(name.id.as_str()) => {
                    local.clone()
                }
                other => self.classify(other),
            };
            self.facts.cached_returns.push(CachedReturn {
                function,
                value: returned,
                span: span(range),
            });
        }
        let mut candidates = vec![value];
        let mut returned = Vec::new();
        let mut inside = Vec::new();
        while let Some(expr) = candidates.pop() {
            match expr {
                Expr::BoolOp(b) => candidates.extend(b.values.iter()),
                Expr::If(i) => candidates.extend([&*i.body, &*i.orelse]),
                Expr::Tuple(ast::ExprTuple { elts, .. })
                | Expr::List(ast::ExprList { elts, .. })
                | Expr::Set(ast::ExprSet { elts, .. }) => {
                    inside.extend(elts.iter().filter_map(|e| self.defaulted_param(e)));
                }
                other => returned.extend(self.defaulted_param(other)),
            }
        }
        for used in inside {
            self.push_param_use(used, ParamUseKind::ReturnedInside, range);
        }
        let kind = if yielded {
            ParamUseKind::Yielded
        } else {
            ParamUseKind::Returned
        };
        for used in returned {
            self.push_param_use(used, kind.clone(), range);
        }
    }

    /// Items of dict displays handed to a call, under a string key, whose value is a name or an
    /// attribute: `HTTPClient({"headers": self._headers})` hands `self._headers` to the item
    /// `headers` of the callee's first parameter.
    pub(super) fn record_item_arguments(&mut self, call: &ast::ExprCall) {
        let Some(function) = self.current_function() else {
            return;
        };
        // Only a dict display passed is looked into: the callee's name is built, and keywords
        // interned, for the few calls given one.
        let positional = call
            .arguments
            .args
            .iter()
            .take_while(|a| !matches!(a, Expr::Starred(_)))
            .enumerate()
            .filter(|(_, a)| matches!(a, Expr::Dict(_)))
            .map(|(i, a)| (Argument::Position(i as u32), a));
        let keywords = call.arguments.keywords.iter().filter_map(|k| {
            let Expr::Dict(_) = &k.value else {
                return None;
            };
            Some((
                Argument::Keyword(intern(k.arg.as_ref()?.as_str())),
                &k.value,
            ))
        });
        let given_dict = |a: &Expr| matches!(a, Expr::Dict(_));
        if !(call.arguments.args.iter().any(given_dict)
            || call.arguments.keywords.iter().any(|k| given_dict(&k.value)))
        {
            return;
        }
        let Some(callee) = dotted_name(&call.func) else {
            return;
        };
        let mut found = Vec::new();
        for (argument, value) in positional.chain(keywords) {
            let Expr::Dict(dict) = value else {
                continue;
            };
            for item in &dict.items {
                let Some(Expr::StringLiteral(key)) = &item.key else {
                    continue;
                };
                let Some(resolved) = self.resolve(&item.value, true) else {
                    continue;
                };
                if resolved.nested || !matches!(item.value, Expr::Name(_) | Expr::Attribute(_)) {
                    continue;
                }
                found.push(crate::facts::ItemArgument {
                    function,
                    callee,
                    argument: argument.clone(),
                    key: intern(literal_text(&key.value)),
                    value: resolved.path,
                    span: span(item.value.range()),
                });
            }
        }
        self.facts.item_arguments.extend(found);
    }

    /// Defaulted parameters handed to a call: stored by a method like `append`, or passed on.
    pub(super) fn record_argument_uses(&mut self, call: &ast::ExprCall) {
        if self.current_function().is_none() {
            return;
        }
        let storing_receiver = super::storing_method(call).map(|method| &*method.value);
        let mut uses = Vec::new();
        for (position, arg) in call.arguments.args.iter().enumerate() {
            // Positions after `*args` are unknown.
            if matches!(arg, Expr::Starred(_)) {
                break;
            }
            if let Some(used) = self.defaulted_param(arg) {
                uses.push((used, Argument::Position(position as u32), arg.range()));
            }
        }
        for keyword in call.arguments.keywords.iter() {
            if let Some(name) = &keyword.arg
                && let Some(used) = self.defaulted_param(&keyword.value)
            {
                uses.push((
                    used,
                    Argument::Keyword(intern(name.as_str())),
                    keyword.range,
                ));
            }
        }
        if uses.is_empty() {
            return;
        }
        let callee = dotted_name(&call.func);
        let false_literals = if storing_receiver.is_none() && callee.is_some() {
            false_literal_arguments(call)
        } else {
            Vec::new()
        };
        for (used, argument, range) in uses {
            if let Some(receiver) = storing_receiver {
                if self.outlives_call(receiver) {
                    self.push_param_use(used, ParamUseKind::Stored, range);
                }
            } else if let Some(callee) = &callee {
                let kind = ParamUseKind::Passed {
                    callee: *callee,
                    argument,
                };
                self.push_param_use(used, kind, range);
                let use_start = range.start().to_u32();
                self.facts
                    .false_arguments
                    .extend(false_literals.iter().map(|(argument, none)| FalseArgument {
                        use_start,
                        argument: argument.clone(),
                        none: *none,
                    }));
            }
        }
    }

    /// A change made to what a call returns: `f().append(x)`, `f()[k] = v`, `f().a.b = v`.
    pub(super) fn record_call_result_mutation(
        &mut self,
        function: FuncIdx,
        object: &Expr,
        kind: MutationKind,
        range: TextRange,
    ) {
        let mut inner = object;
        let direct = matches!(object, Expr::Call(_));
        loop {
            inner = match inner {
                Expr::Subscript(sub) => &sub.value,
                Expr::Attribute(attribute) => &attribute.value,
                _ => break,
            };
        }
        let Expr::Call(call) = inner else {
            return;
        };
        let Some(callee) = dotted_name(&call.func) else {
            return;
        };
        if callee == "super" {
            return;
        }
        self.facts.call_result_mutations.push(CallResultMutation {
            function,
            callee,
            kind,
            span: span(range),
            direct,
        });
    }

    /// `f.cache_clear()`: the code resets a cache.
    pub(super) fn record_cache_clear(&mut self, call: &ast::ExprCall) {
        if let Some(function) = self.current_function()
            && let Expr::Attribute(method) = &*call.func
            && method.attr.as_str() == "cache_clear"
            && let Some(callee) = dotted_name(&method.value)
        {
            if let Some(first_yield) = self.function_scope().and_then(|f| f.first_yield) {
                let index = self.facts.cache_clears.len() as u32;
                self.facts
                    .cache_clears_after_yield
                    .push((index, first_yield));
            }
            self.facts.cache_clears.push((function, callee));
        }
    }

    /// A `yield` of the function being walked: the first one is where a context manager hands
    /// control to the caller's block.
    pub(super) fn note_yield(&mut self, range: TextRange) {
        if let Some(scope) = self.function_scope_mut()
            && scope.first_yield.is_none()
        {
            scope.first_yield = Some(range.start().to_u32());
        }
    }

    /// A module global read by a function decorated like `lru_cache`.
    #[inline]
    pub(super) fn record_cached_read(&mut self, name: &ast::ExprName) {
        if self.in_cached_function() {
            self.push_cached_read(name.id.as_str(), None);
        }
    }

    /// Whether the innermost scope is a function decorated like `lru_cache`: asked at every name
    /// and attribute read, inline, since it is false for almost all of them.
    #[inline]
    fn in_cached_function(&self) -> bool {
        matches!(self.scopes.last(), Some(super::Scope::Function(f)) if f.cached_locals.is_some())
    }

    /// `GLOBAL.attr` read by a function decorated like `lru_cache`: recorded as `GLOBAL.attr`
    /// (as well as `GLOBAL`), so that a change of another attribute is not taken for one it reads.
    #[inline]
    pub(super) fn record_cached_attribute_read(&mut self, attribute: &ast::ExprAttribute) {
        if self.in_cached_function()
            && let Expr::Name(name) = &*attribute.value
        {
            self.push_cached_read(name.id.as_str(), Some(attribute.attr.as_str()));
        }
    }

    fn push_cached_read(&mut self, id: &str, attr: Option<&str>) {
        let Some(scope) = self.function_scope() else {
            return;
        };
        if scope.cached_locals.is_none() {
            return;
        }
        let function = scope.idx;
        if knowledge::is_builtin(id) || !self.is_global_name(id) {
            return;
        }
        let read: crate::facts::Name = match attr {
            Some(attr) => super::join_dotted(id, attr),
            None => intern(id),
        };
        let seen = self
            .facts
            .cached_global_reads
            .iter()
            .rev()
            .take_while(|(f, _)| *f == function)
            .any(|(_, n)| *n == read);
        if !seen {
            self.facts.cached_global_reads.push((function, read));
        }
    }

    /// `NAME = call(..., default=<object>)` at module or class level.
    pub(super) fn record_keyword_default(&mut self, name: &str, call: &ast::ExprCall) {
        let class = match self.scopes.last() {
            Some(Scope::Class(c)) => Some(*c),
            Some(Scope::Module) => None,
            _ => return,
        };
        // The keyword first: most calls have none, and the callee's name is built as text.
        let Some(keyword) = call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "default"))
        else {
            return;
        };
        let Some(callee) = constructor_name(&call.func) else {
            return;
        };
        let default = self.classify(&keyword.value);
        if matches!(
            default,
            Value::Container(_) | Value::Call { .. } | Value::Alias(_)
        ) {
            self.facts.keyword_defaults.push(KeywordDefault {
                class,
                name: intern(name),
                callee,
                default,
                span: span(keyword.value.range()),
            });
        }
    }
}

/// Whether a parameter's default is something other than a literal (a display, a call, a name):
/// one object shared by every call that omits the argument.
pub(super) fn has_shared_default(param: &Param) -> bool {
    matches!(
        param.default,
        Some(Value::Container(_) | Value::Call { .. } | Value::Alias(_))
    )
}

/// The arguments of `call` written as `None`, `False`, `0` or `""`, each with whether it is
/// `None`. Positions after `*args` are unknown and left out.
/// The arguments of a call a module-level binding (by index `global`) is bound to, for
/// [`crate::facts::FileFacts::binding_calls`].
pub(super) fn binding_call(global: u32, call: &ast::ExprCall) -> BindingCall {
    let arguments = &call.arguments;
    let splat = arguments
        .args
        .iter()
        .any(|arg| matches!(arg, Expr::Starred(_)))
        || arguments
            .keywords
            .iter()
            .any(|keyword| keyword.arg.is_none());
    let positional = arguments
        .args
        .iter()
        .take_while(|arg| !matches!(arg, Expr::Starred(_)))
        .count() as u32;
    let keywords = arguments
        .keywords
        .iter()
        .filter_map(|keyword| Some(intern(keyword.arg.as_ref()?.as_str())))
        .collect();
    let false_keywords = false_literal_arguments(call)
        .into_iter()
        .filter_map(|(argument, none)| match argument {
            Argument::Keyword(name) => Some((name, none)),
            Argument::Position(_) => None,
        })
        .collect();
    BindingCall {
        global,
        positional,
        splat,
        keywords,
        false_keywords,
    }
}

/// Whether `value` is a false literal (`None`, `False`, `0`, `""`): `Some(true)` for `None`.
pub(super) fn falsity(value: &Expr) -> Option<bool> {
    match value {
        Expr::NoneLiteral(_) => Some(true),
        Expr::BooleanLiteral(b) if !b.value => Some(false),
        Expr::NumberLiteral(n) if matches!(&n.value, ast::Number::Int(i) if *i == ast::Int::ZERO) => {
            Some(false)
        }
        Expr::StringLiteral(s) if s.value.is_empty() => Some(false),
        _ => None,
    }
}

fn false_literal_arguments(call: &ast::ExprCall) -> Vec<(Argument, bool)> {
    let positional = call
        .arguments
        .args
        .iter()
        .take_while(|arg| !matches!(arg, Expr::Starred(_)))
        .enumerate()
        .filter_map(|(position, arg)| Some((Argument::Position(position as u32), falsity(arg)?)));
    let keywords = call.arguments.keywords.iter().filter_map(|keyword| {
        let name = keyword.arg.as_ref()?;
        Some((
            Argument::Keyword(intern(name.as_str())),
            falsity(&keyword.value)?,
        ))
    });
    positional.chain(keywords).collect()
}
