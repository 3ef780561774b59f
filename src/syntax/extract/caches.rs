//! What a memoising decorator's key and the decorated body depend on, and what the methods that
//! make an object into a key (`__repr__`, `__eq__`, ...) read of it.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::Ranged;

use crate::facts::{DecoratedCache, FuncIdx, Name, intern};
use crate::knowledge;

use super::{Extractor, MAX_WALK_DEPTH, dotted_name, span};

/// Methods whose view of the receiver is what a key built from the object tells apart.
const KEY_METHODS: &[&str] = &[
    "__repr__",
    "__str__",
    "__eq__",
    "__hash__",
    "__caching_id__",
];

/// Decorators, by their last name, that memoise with a key of their own making.
const KEYED_DECORATORS: &[&str] = &["cached", "memoize", "lru_cache", "cache"];

/// Names read in a body, and the receiver's attributes read through `self_name`.
struct Reads<'a> {
    self_name: Option<&'a str>,
    names: Vec<Name>,
    receiver_attrs: Vec<Name>,
    whole_receiver: bool,
    depth: u32,
}

impl<'a> Visitor<'a> for Reads<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.depth > MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        visitor::walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.depth > MAX_WALK_DEPTH {
            return;
        }
        match expr {
            Expr::Attribute(attribute) if matches!(&*attribute.value, Expr::Name(n) if Some(n.id.as_str()) == self.self_name) =>
            {
                self.receiver_attrs.push(intern(attribute.attr.as_str()));
                return;
            }
            Expr::Name(name) => {
                if Some(name.id.as_str()) == self.self_name {
                    self.whole_receiver = true;
                }
                self.names.push(intern(name.id.as_str()));
            }
            _ => {}
        }
        self.depth += 1;
        visitor::walk_expr(self, expr);
        self.depth -= 1;
    }
}

fn reads<'a>(body: &'a [Stmt], self_name: Option<&'a str>) -> Reads<'a> {
    let mut reads = Reads {
        self_name,
        names: Vec::new(),
        receiver_attrs: Vec::new(),
        whole_receiver: false,
        depth: 0,
    };
    for stmt in body {
        reads.visit_stmt(stmt);
    }
    for list in [&mut reads.names, &mut reads.receiver_attrs] {
        list.sort();
        list.dedup();
    }
    reads
}

/// What a key function's body uses: names, and the items it takes from its own `*args` (by an
/// integer literal) and `**kwargs` (by a string literal, subscript or `get`).
struct KeyUses<'a> {
    args: Option<&'a str>,
    kwargs: Option<&'a str>,
    names: Vec<Name>,
    arg_items: Vec<usize>,
    kwarg_items: Vec<Name>,
    /// `*args` or `**kwargs` used other than by taking a literal item.
    whole_variadic: bool,
    depth: u32,
}

impl KeyUses<'_> {
    fn is_name(expr: &Expr, name: Option<&str>) -> bool {
        matches!(expr, Expr::Name(n) if Some(n.id.as_str()) == name)
    }
}

impl<'a> Visitor<'a> for KeyUses<'a> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.depth > MAX_WALK_DEPTH {
            self.whole_variadic = true;
            return;
        }
        match expr {
            Expr::Subscript(item) if Self::is_name(&item.value, self.kwargs) => {
                if let Expr::StringLiteral(s) = &*item.slice {
                    self.kwarg_items.push(intern(super::literal_text(&s.value)));
                    return;
                }
            }
            Expr::Subscript(item) if Self::is_name(&item.value, self.args) => {
                if let Expr::NumberLiteral(n) = &*item.slice
                    && let Some(i) = n.value.as_int().and_then(|i| i.as_usize())
                {
                    self.arg_items.push(i);
                    return;
                }
            }
            Expr::Call(call)
                if call.arguments.keywords.is_empty()
                    && matches!(&*call.func, Expr::Attribute(get)
                        if get.attr.as_str() == "get" && Self::is_name(&get.value, self.kwargs)) =>
            {
                if let Some(Expr::StringLiteral(s)) = call.arguments.args.first() {
                    self.kwarg_items.push(intern(super::literal_text(&s.value)));
                    for arg in &call.arguments.args[1..] {
                        self.visit_expr(arg);
                    }
                    return;
                }
            }
            Expr::Name(name) => {
                if Self::is_name(expr, self.args) || Self::is_name(expr, self.kwargs) {
                    self.whole_variadic = true;
                }
                self.names.push(intern(name.id.as_str()));
            }
            _ => {}
        }
        self.depth += 1;
        visitor::walk_expr(self, expr);
        self.depth -= 1;
    }
}

/// `X` (or `X.Y...`) when the body (after a docstring) is only `return self.X` (or `return
/// self.X.Y...`), `self` being `self_name`.
fn returned_receiver_path(function: &ast::StmtFunctionDef, self_name: &str) -> Option<Name> {
    let body = match function.body.as_slice() {
        [first, rest @ ..] if ruff_python_ast::helpers::is_docstring_stmt(first) => rest,
        body => body,
    };
    let [
        Stmt::Return(ast::StmtReturn {
            value: Some(value), ..
        }),
    ] = body
    else {
        return None;
    };
    let mut attrs: Vec<&str> = Vec::new();
    let mut current = &**value;
    while let Expr::Attribute(attribute) = current {
        attrs.push(attribute.attr.as_str());
        current = &attribute.value;
    }
    if attrs.is_empty() || !matches!(current, Expr::Name(n) if n.id.as_str() == self_name) {
        return None;
    }
    attrs.reverse();
    Some(intern(&attrs.join(".")))
}

impl Extractor {
    /// Records what a finished function's body reads, when it is a key method or memoised by a
    /// decorator that builds its own key.
    pub(super) fn record_key_reads(&mut self, idx: FuncIdx, function: &ast::StmtFunctionDef) {
        let facts = &self.facts.functions[idx as usize];
        let self_name = match facts.kind {
            crate::facts::FunctionKind::Instance => facts.params.first().map(|p| p.name),
            _ => None,
        };
        if let Some(self_name) = &self_name
            && let [decorator] = facts.decorators.as_slice()
            && !decorator.called
            && (decorator.name == "property"
                || crate::knowledge::last_segment(&decorator.name) == "cached_property")
            && let Some(path) = returned_receiver_path(function, self_name)
        {
            let decorator = decorator.name;
            self.facts
                .attribute_properties
                .push(crate::facts::AttributeProperty {
                    function: idx,
                    path,
                    decorator,
                });
            return;
        }
        if facts.class.is_some() && KEY_METHODS.contains(&facts.name.as_str()) {
            let Some(self_name) = &self_name else { return };
            let read = reads(&function.body, Some(self_name));
            let attrs = (!read.whole_receiver).then_some(read.receiver_attrs);
            self.facts.key_method_reads.push((idx, attrs));
            return;
        }
        for decorator in &function.decorator_list {
            let (callee, call) = match &decorator.expression {
                Expr::Call(call) => (dotted_name(&call.func), Some(call)),
                other => (dotted_name(other), None),
            };
            let Some(callee) = callee else { continue };
            let last = knowledge::last_segment(&callee);
            if !KEYED_DECORATORS.contains(&last) {
                continue;
            }
            let key_params = call.and_then(|call| self.key_params(idx, call));
            let params = &self.facts.functions[idx as usize].params;
            let read = reads(&function.body, self_name.as_deref());
            let mut read_params: Vec<Name> = read
                .names
                .iter()
                .filter(|n| params.iter().any(|p| p.name == **n))
                .filter(|n| Some(*n) != self_name.as_ref())
                .cloned()
                .collect();
            if !read.receiver_attrs.is_empty() || read.whole_receiver {
                read_params.extend(self_name);
                read_params.sort();
            }
            self.facts.decorated_caches.push(DecoratedCache {
                function: idx,
                decorator: callee,
                key_params,
                reads: read_params,
                receiver_reads: read.receiver_attrs,
                uses_whole_receiver: read.whole_receiver,
                span: span(decorator.range()),
            });
            return;
        }
    }

    /// The function's parameters a `key=lambda ...` of the decorator call uses: a positional
    /// parameter of the lambda stands for the function's parameter at the same position, a
    /// keyword-only one for the function's parameter of its name, `kwargs["name"]` (or
    /// `kwargs.get("name")`) of the lambda's `**kwargs` for the parameter `name`, and `args[i]`
    /// of its `*args` for the parameter after the lambda's positional ones. `None` when the
    /// lambda uses its `*args` or `**kwargs` otherwise (the key may then hold any argument).
    fn key_params(&self, idx: FuncIdx, call: &ast::ExprCall) -> Option<Vec<Name>> {
        let keyword = call
            .arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == "key"))?;
        let Expr::Lambda(lambda) = &keyword.value else {
            return None;
        };
        let lambda_params = lambda.parameters.as_deref();
        let positional: Vec<&str> = lambda_params
            .map(|p| {
                p.posonlyargs
                    .iter()
                    .chain(&p.args)
                    .map(|p| p.parameter.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let keyword_only: Vec<&str> = lambda_params
            .map(|p| {
                p.kwonlyargs
                    .iter()
                    .map(|p| p.parameter.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut used = KeyUses {
            args: lambda_params
                .and_then(|p| p.vararg.as_ref())
                .map(|p| p.name.as_str()),
            kwargs: lambda_params
                .and_then(|p| p.kwarg.as_ref())
                .map(|p| p.name.as_str()),
            names: Vec::new(),
            arg_items: Vec::new(),
            kwarg_items: Vec::new(),
            whole_variadic: false,
            depth: 0,
        };
        used.visit_expr(&lambda.body);
        if used.whole_variadic {
            return None;
        }
        let params = &self.facts.functions[idx as usize].params;
        let by_position = |i: usize| params.get(i).map(|p| p.name);
        let by_name = |name: &str| params.iter().find(|p| p.name == name).map(|p| p.name);
        let mut key: Vec<Name> = positional
            .iter()
            .enumerate()
            .filter(|(_, name)| used.names.iter().any(|n| n == *name))
            .filter_map(|(i, _)| by_position(i))
            .collect();
        key.extend(
            keyword_only
                .iter()
                .filter(|name| used.names.iter().any(|n| n == *name))
                .filter_map(|name| by_name(name)),
        );
        key.extend(
            used.arg_items
                .iter()
                .filter_map(|&i| by_position(positional.len().checked_add(i)?)),
        );
        key.extend(used.kwarg_items.iter().filter_map(|name| by_name(name)));
        key.sort();
        key.dedup();
        Some(key)
    }
}
